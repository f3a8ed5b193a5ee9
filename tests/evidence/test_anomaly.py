"""Anomaly detection in operation logs: the pure detector on hand-made logs, then the stored
result, the panel in both languages, the API and tenancy, through the real services."""

import gzip
import io

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from appeals.core.panels import render_panels
from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as svc
from appeals.evidence.anomaly import detect_anomalies
from appeals.evidence.web import render_anomaly_panel
from appeals.models import AnomalyHour, AuditEvent, LogAnalysis
from tests.evidence import anomaly_logs, files
from tests.evidence.conftest import attach_required_evidence


def detect(text: str, gz: bool = False, **overrides):
    data = text.encode()
    if gz:
        data = gzip.compress(data)
    return detect_anomalies(io.BytesIO(data), rules=settings.EVIDENCE_LOG_RULES,
                            config={**settings.EVIDENCE_ANOMALY, **overrides})


# --- the detector ---------------------------------------------------------------------------


def test_a_calm_week_gives_no_flags():
    report = detect(anomaly_logs.calm_log())
    assert report.accounts == 6 and report.account_hours == 6 * 5 * 9
    assert report.flagged == [] and report.error == ""


def test_an_add_burst_is_flagged_with_its_driver_and_its_lines():
    text, injected = anomaly_logs.with_burst("adds")
    report = detect(text)
    [hour] = report.flagged
    assert hour["operator"] == "wx-ops-1" and hour["hour"] == anomaly_logs.BURST_HOUR and hour["kind"] == "mass_add"
    [driver] = hour["drivers"]
    assert driver["feature"] == "adds" and driver["value"] >= 60 and 2 <= driver["usual"] <= 6
    assert driver["z"] >= settings.EVIDENCE_ANOMALY["Z_THRESHOLD"] and hour["score"] == driver["z"]
    # the driving rows (every add of that hour) come first: all 60 injected adds are among them
    assert set(injected) <= set(hour["line_numbers"])
    assert hour["line_count"] > len(injected)  # the hour's other rows are counted too


@pytest.mark.parametrize(("kind", "operator", "expected_kind", "feature"), [
    ("sensitive", "wx-ops-2", "sensitive_words", "sensitive_hits"),
    ("location", "wx-cs-1", "location", "new_device_with_new_ip"),
    ("night_export", "wx-master", "off_hours_export", "exports"),
    ("api_burst", "wx-cs-2", "api_burst", "api_calls"),
])
def test_each_kind_is_flagged_and_named(kind, operator, expected_kind, feature):
    text, injected = anomaly_logs.with_burst(kind)
    [hour] = detect(text).flagged
    assert hour["operator"] == operator and hour["kind"] == expected_kind
    assert hour["drivers"][0]["feature"] == feature and hour["drivers"][0]["usual"] == 0
    assert hour["line_numbers"][: len(injected)] == injected  # exactly the injected rows drive it
    if kind == "location":
        assert hour["drivers"][0]["seen"] == ["203.0.113.77", "dev-stranger"]


def test_the_detector_reads_gzip_skips_malformed_rows_and_leaves_the_file_open():
    text, _injected = anomaly_logs.with_burst("adds")
    garbage = "not,a,row\n2026-13-45 99:00:00,wx-ops-1,operations,add_friend,x,,1.1.1.1,d\n"
    raw = io.BytesIO(gzip.compress((text + garbage).encode()))
    report = detect_anomalies(raw, rules=settings.EVIDENCE_LOG_RULES, config=settings.EVIDENCE_ANOMALY)
    assert [h["kind"] for h in report.flagged] == ["mass_add"]
    assert not raw.closed  # the caller's file outlives the passes


def test_isolation_forest_method_runs_and_explains_with_z_scores():
    text, _injected = anomaly_logs.with_burst("adds")
    report = detect(text, METHOD="isolation_forest")
    assert report.method == "isolation_forest"
    top = report.flagged[0]
    assert (top["operator"], top["hour"]) == ("wx-ops-1", anomaly_logs.BURST_HOUR)
    assert top["drivers"][0]["feature"] == "adds"


def test_an_empty_log_is_scored_as_nothing():
    report = detect(files.HEADER)
    assert report.account_hours == 0 and report.flagged == []


# --- stored, audited, shown, served ----------------------------------------------------------


def _upload_and_analyse(appeal, by, text: str):
    item = svc.evidence_upload(appeal=appeal, by=by, kind="operation_log", file=files.upload("log.csv", text.encode()))
    svc.evidence_analyse_log(item_id=item.pk)
    return item


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.django_db
def test_the_analysis_stores_the_flagged_hour_and_audits_the_summary(draft_appeal, enterprise_admin):
    text, injected = anomaly_logs.with_burst("adds")
    item = _upload_and_analyse(draft_appeal, enterprise_admin, text)
    [row] = AnomalyHour.objects.filter(appeal=draft_appeal)
    assert row.enterprise_id == draft_appeal.enterprise_id and row.evidence_id == item.pk
    assert row.operator == "wx-ops-1" and row.kind == "mass_add" and row.method == "robust_z"
    assert timezone.localtime(row.hour).strftime("%Y-%m-%d %H") == "2026-11-18 14"  # Asia/Shanghai
    assert row.drivers[0]["feature"] == "adds" and set(injected) <= set(row.line_numbers)
    analysis = LogAnalysis.objects.get(evidence=item)
    assert analysis.status == "done" and analysis.anomaly["flagged"] == 1 and analysis.anomaly["account_hours"] == 270
    event = AuditEvent.objects.filter(action="evidence.analyse_log").latest("id")
    assert event.after["anomalies"]["flagged"] == 1
    # analysing again replaces, never duplicates
    svc.evidence_analyse_log(item_id=item.pk)
    assert AnomalyHour.objects.filter(appeal=draft_appeal).count() == 1


@pytest.mark.django_db
def test_switched_off_it_stores_nothing(draft_appeal, enterprise_admin, settings):
    settings.EVIDENCE_ANOMALY = {**settings.EVIDENCE_ANOMALY, "ENABLED": False}
    item = _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.with_burst("adds")[0])
    assert not AnomalyHour.objects.exists() and LogAnalysis.objects.get(evidence=item).anomaly is None
    assert render_anomaly_panel(_request(enterprise_admin), draft_appeal) is None


@pytest.mark.django_db
def test_the_panel_shows_each_hour_with_its_drivers_and_lines_in_english_and_chinese(draft_appeal, enterprise_admin,
                                                                                    first_reviewer):
    _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.with_burst("adds")[0])
    with translation.override("en"):
        html = render_anomaly_panel(_request(enterprise_admin), draft_appeal)
    assert "Burst of friend adds" in html and "wx-ops-1 <span class=\"muted\">(Operations)" in html
    assert "2026-11-18 14:00" in html
    assert "friend adds: 6" in html and ", usually 4 (similar accounts: 4)" in html
    assert "Log lines" in html and "and " in html  # 25 lines shown, the rest counted
    assert "270 account-hours of 6 accounts scored, 1 unusual." in html
    with translation.override("zh-hans"):
        zh = render_anomaly_panel(_request(enterprise_admin), draft_appeal)
    assert "日志行" in zh and "wx-ops-1" in zh  # the panel's strings go through the catalogue
    assert "(Operations)" not in zh  # the account type is translated too

    attach_required_evidence(draft_appeal, enterprise_admin)
    appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    panels = "".join(render_panels(_request(first_reviewer), appeal))
    assert 'id="anomalies"' in panels and "Burst of friend adds" in panels  # the reviewers see it too


@pytest.mark.django_db
def test_a_calm_log_says_so_on_the_panel(draft_appeal, enterprise_admin):
    _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.calm_log())
    html = render_anomaly_panel(_request(enterprise_admin), draft_appeal)
    assert "No unusual hours found." in html and "0 unusual" in html
    assert not AnomalyHour.objects.exists()


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_the_api_lists_the_hours_with_drivers_and_refuses_bad_filters(draft_appeal, enterprise_admin):
    _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.with_burst("api_burst")[0])
    url = f"/api/v1/appeals/{draft_appeal.reference}/anomalies/"
    c = _client(enterprise_admin)
    [hour] = c.get(url).json()
    assert hour["operator"] == "wx-cs-2" and hour["kind"] == "api_burst" and hour["kind_label"] == "Burst of API calls"
    assert hour["drivers"][0] == {"feature": "api_calls", "label": "API calls", "value": 80.0, "usual": 0.0,
                                  "peers": 0.0, "z": 40.0}
    assert hour["hour"].startswith("2026-11-18T14:00:00") and hour["hour_end"].startswith("2026-11-18T15:00:00")
    assert c.get(url, {"operator": "wx-cs-2", "min_score": 10}).json()[0]["line_count"] == hour["line_count"]
    assert c.get(url, {"min_score": 100}).json() == []
    bad = c.get(url, {"min_score": "lots"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "min_score" in bad.json()["fields"]
    evidence = c.get(f"/api/v1/appeals/{draft_appeal.reference}/evidence/").json()
    [log] = [e for e in evidence if e["kind"] == "operation_log"]
    assert log["analysis"]["anomaly"]["flagged"] == 1 and log["analysis"]["anomaly"]["method"] == "robust_z"
    assert Client().get(url).status_code in (401, 403)


@pytest.mark.django_db
def test_another_enterprise_sees_neither_the_hours_nor_the_panel(draft_appeal, enterprise_admin, other_admin):
    _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.with_burst("adds")[0])
    resp = _client(other_admin).get(f"/api/v1/appeals/{draft_appeal.reference}/anomalies/")
    assert resp.status_code == 404 and "wx-ops-1" not in resp.content.decode()
    assert render_panels(_request(other_admin), draft_appeal) == []


@pytest.mark.django_db
def test_the_schema_documents_the_endpoint_and_its_errors(enterprise_admin):
    schema = _client(enterprise_admin).get("/api/schema/", {"format": "json"}).json()
    op = schema["paths"]["/api/v1/appeals/{reference}/anomalies/"]["get"]
    assert op["operationId"] == "appeal_anomalies"
    assert {"200", "400", "401", "404"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} >= {"operator", "min_score", "reference"}


@pytest.mark.browser
@pytest.mark.django_db
def test_the_panel_fits_a_390_px_phone_in_both_languages(draft_appeal, enterprise_admin):
    from playwright.sync_api import sync_playwright

    from tests.browser.test_lifecycle import CHROMIUM_ARGS

    _upload_and_analyse(draft_appeal, enterprise_admin, anomaly_logs.with_burst("location")[0])
    css = (settings.BASE_DIR / "appeals" / "static" / "appeals" / "app.css").read_text()
    pages = {}
    for lang in ("en", "zh-hans"):  # rendered first: Playwright's loop refuses database calls
        with translation.override(lang):
            pages[lang] = render_anomaly_panel(_request(enterprise_admin), draft_appeal)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            for lang, html in pages.items():
                page.set_content(f"<!doctype html><html lang='{lang}'><head><meta name='viewport' "
                                 f"content='width=device-width'><style>{css}</style></head><body><main>{html}</main></body></html>")
                assert page.locator(".anomaly-hour").count() == 1
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, lang
        finally:
            browser.close()
