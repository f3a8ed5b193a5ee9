"""Account health from the operation log: the five metrics per account and day, the flags where a
threshold is crossed (with their lines), the first layout still valid, the stored result, the
case-page chart in both languages, the API and its tenancy."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from appeals.evidence import services as svc
from appeals.evidence.log_analysis import analyse_operation_log
from appeals.models import AuditEvent, LogAnalysis, RiskFlag
from tests.evidence import files
from tests.evidence.files import HEADER

D1 = datetime(2026, 11, 20, 9, 0, 0)
D2 = datetime(2026, 11, 21, 9, 0, 0)


class Log:
    """A hand-made log: rows appended in time order; remembers the line of each row (header = line 1)."""

    def __init__(self):
        self.rows: list[str] = []

    def add(self, t, action, operator="wx-1", account_type="operations", target="c", message="") -> int:
        self.rows.append(f"{t:%Y-%m-%d %H:%M:%S},{operator},{account_type},{action},{target},{message},10.0.0.1,dev-1\n")
        return len(self.rows) + 1

    def many(self, start, n, action, step=timedelta(seconds=30), **kw) -> list[int]:
        return [self.add(start + step * i, action, **kw) for i in range(n)]

    def text(self) -> str:
        return HEADER + "".join(self.rows)


def analyse(text: str, **threshold_overrides):
    return analyse_operation_log(io.BytesIO(text.encode()), rules=settings.EVIDENCE_LOG_RULES,
                                 health_thresholds={**settings.HEALTH_THRESHOLDS, **threshold_overrides})


def health_flags(report, rule=None):
    return [f for f in report.flags if f["rule"].startswith("health_") and (rule is None or f["rule"] == rule)]


def day_of(report, operator, day):
    [account] = [a for a in report.health["accounts"] if a["operator"] == operator]
    [d] = [d for d in account["days"] if d["day"] == day]
    return d


def two_day_log() -> tuple[Log, dict]:
    """wx-1, day 1: 40 requests (10 add_friend + 30 friend_request_sent), 1 accepted; 30 messages
    (20 send_message + 10 message_sent), 6 replies; 2 deletes + 1 block; no complaint.
    Day 2: 25 requests, 5 accepted; 50 messages, 4 replies; 4 deletes + 4 blocks; 3 complaints."""
    log, lines = Log(), {}
    lines["d1_sent"] = log.many(D1, 10, "add_friend") + log.many(D1 + timedelta(minutes=10), 30, "friend_request_sent")
    lines["d1_accepted"] = [log.add(D1 + timedelta(hours=1), "friend_request_accepted")]
    lines["d1_messages"] = (log.many(D1 + timedelta(hours=2), 20, "send_message")
                            + log.many(D1 + timedelta(hours=3), 10, "message_sent"))
    lines["d1_replies"] = log.many(D1 + timedelta(hours=4), 6, "message_replied")
    lines["d1_removed"] = [log.add(D1 + timedelta(hours=5), "deleted_by_customer"),
                           log.add(D1 + timedelta(hours=5, minutes=1), "deleted_by_customer"),
                           log.add(D1 + timedelta(hours=5, minutes=2), "blocked_by_customer")]
    lines["d2_sent"] = log.many(D2, 25, "friend_request_sent")
    lines["d2_accepted"] = log.many(D2 + timedelta(hours=1), 5, "friend_request_accepted")
    lines["d2_messages"] = log.many(D2 + timedelta(hours=2), 50, "send_message", step=timedelta(seconds=20))
    lines["d2_replies"] = log.many(D2 + timedelta(hours=3), 4, "message_replied")
    lines["d2_removed"] = (log.many(D2 + timedelta(hours=4), 4, "deleted_by_customer")
                           + log.many(D2 + timedelta(hours=5), 4, "blocked_by_customer"))
    lines["d2_complaints"] = log.many(D2 + timedelta(hours=6), 3, "complaint")
    return log, lines


def test_the_five_metrics_per_account_and_day_are_exact():
    log, _lines = two_day_log()
    log.many(D2 + timedelta(hours=8), 5, "send_message", operator="wx-2")  # another account, its own bucket
    report = analyse(log.text())
    assert report.rows_malformed == 0 and report.health["outcomes_recorded"] is True
    d1 = day_of(report, "wx-1", "2026-11-20")
    assert (d1["activity"], d1["requests_sent"], d1["requests_accepted"], d1["messages_sent"], d1["replies"],
            d1["deleted"], d1["blocked"], d1["complaints"]) == (80, 40, 1, 30, 6, 2, 1, 0)
    assert d1["acceptance_rate"] == 0.025  # 1 / 40
    assert d1["reply_rate"] == 0.2  # 6 / 30
    assert d1["delete_block_rate"] == round(3 / 70, 4)  # (2 + 1) / (30 messages + 40 requests)
    assert d1["complaint_rate"] == 0.0
    d2 = day_of(report, "wx-1", "2026-11-21")
    assert d2["activity"] == 95 and d2["acceptance_rate"] == 0.2 and d2["reply_rate"] == 0.08
    assert d2["delete_block_rate"] == round(8 / 75, 4) and d2["complaint_rate"] == 0.04
    other = day_of(report, "wx-2", "2026-11-21")
    assert other["activity"] == 5 and other["messages_sent"] == 5 and other["acceptance_rate"] is None  # nothing sent
    assert other["reply_rate"] == 0.0


def test_each_crossed_threshold_is_a_flag_pointing_at_the_rows_behind_it():
    log, lines = two_day_log()
    report = analyse(log.text())
    [accept] = health_flags(report, "health_accept_low")  # day 1: 2.5 % < 5 %; day 2: 20 %
    assert accept["operator"] == "wx-1" and accept["detail"]["day"] == "2026-11-20"
    assert accept["detail"]["value"] == 0.025 and accept["detail"]["threshold"] == 0.05
    assert accept["line_numbers"] == sorted(lines["d1_sent"] + lines["d1_accepted"]) and accept["count"] == 41
    assert accept["window_start"] == datetime(2026, 11, 20) and accept["window_end"] == datetime(2026, 11, 20, 23, 59, 59)
    [reply] = health_flags(report, "health_reply_low")  # day 2: 8 % < 10 %; day 1: 20 %
    assert reply["detail"]["day"] == "2026-11-21" and reply["line_numbers"] == lines["d2_messages"] + lines["d2_replies"]
    [removed] = health_flags(report, "health_delblock_high")  # day 2: 10.7 % > 10 %; day 1: 4.3 %
    assert removed["detail"]["day"] == "2026-11-21" and removed["line_numbers"] == lines["d2_removed"]
    assert removed["detail"]["deleted"] == 4 and removed["detail"]["blocked"] == 4 and removed["count"] == 8
    [complaints] = health_flags(report, "health_complaints")  # 3 in a day, 4 % > 1 %
    assert complaints["line_numbers"] == lines["d2_complaints"] and complaints["count"] == 3
    assert not health_flags(report, "health_active_spike")  # two days: too few for a baseline


def test_at_the_threshold_or_on_a_small_day_there_is_no_flag():
    log = Log()
    log.many(D1, 20, "friend_request_sent")
    log.add(D1 + timedelta(hours=1), "friend_request_accepted")  # exactly 5 %: not below
    log.many(D1 + timedelta(hours=2), 20, "send_message")
    log.many(D1 + timedelta(hours=3), 2, "message_replied")  # exactly 10 %
    log.many(D1 + timedelta(hours=4), 4, "deleted_by_customer")  # 4 / 40 = 10 %: not above
    log.many(D2, 19, "friend_request_sent")  # 0 % accepted, but only 19 requests (< MIN_DAILY_SAMPLE)
    log.many(D2 + timedelta(hours=1), 2, "complaint")  # 2 / 19 > 1 %, but 19 < 20 and 2 < 3 a day
    report = analyse(log.text())
    assert day_of(report, "wx-1", "2026-11-20")["acceptance_rate"] == 0.05
    assert day_of(report, "wx-1", "2026-11-21")["acceptance_rate"] == 0.0  # shown...
    assert health_flags(report) == []  # ...but not flagged


def test_a_day_far_above_the_accounts_usual_activity_is_a_spike():
    log = Log()
    for day in range(4):
        log.many(D1 + timedelta(days=day), 100, "login", step=timedelta(seconds=60))
    spike = log.many(D1 + timedelta(days=4), 400, "login", step=timedelta(seconds=60))  # median 100: 400 > 3 x 100
    report = analyse(log.text())
    [flag] = health_flags(report, "health_active_spike")
    assert flag["detail"]["day"] == "2026-11-24" and flag["detail"]["baseline"] == 100.0 and flag["count"] == 400
    assert flag["line_numbers"] == spike[: settings.HEALTH_THRESHOLDS["MAX_LINES_PER_FLAG"]]  # capped, count complete
    assert day_of(report, "wx-1", "2026-11-24")["activity_baseline"] == 100.0


def test_days_are_asia_shanghai_days():
    log = Log()
    log.add(datetime(2026, 11, 20, 23, 59, 59), "send_message")
    log.add(datetime(2026, 11, 21, 0, 0, 0), "send_message")
    report = analyse(log.text())
    assert [d["day"] for d in report.health["accounts"][0]["days"]] == ["2026-11-20", "2026-11-21"]
    utc = HEADER + "2026-11-20 15:59:59+00:00,wx-1,operations,send_message,c,,10.0.0.1,d\n" \
                   "2026-11-20 16:00:00+00:00,wx-1,operations,send_message,c,,10.0.0.1,d\n"  # 23:59:59 and 00:00 in Shanghai
    report = analyse(utc)
    assert [(d["day"], d["activity"]) for d in report.health["accounts"][0]["days"]] == [("2026-11-20", 1), ("2026-11-21", 1)]


def test_a_log_in_the_first_layout_is_still_valid_and_raises_no_health_flag():
    """Only add_friend / send_message and friends: nothing says what customers did."""
    log = Log()
    log.many(D1, 60, "add_friend", step=timedelta(seconds=50))  # 60 adds within 50 minutes: mass adding
    log.many(D1 + timedelta(hours=2), 40, "send_message")
    report = analyse(log.text())
    assert report.rows_total == 100 and report.rows_malformed == 0
    assert [f["rule"] for f in report.flags] == ["mass_add"]
    assert report.health["outcomes_recorded"] is False
    d1 = day_of(report, "wx-1", "2026-11-20")
    assert d1["activity"] == 100 and d1["requests_sent"] == 60 and d1["messages_sent"] == 40
    assert [d1[m] for m in ("acceptance_rate", "reply_rate", "delete_block_rate", "complaint_rate")] == [None] * 4


def test_new_event_kinds_need_no_permission():
    log = Log()
    for action in ("friend_request_accepted", "message_replied", "deleted_by_customer", "blocked_by_customer", "complaint"):
        log.add(D1, action, account_type="developer")  # a developer may not send, but these are the customers' doing
    assert not [f for f in analyse(log.text()).flags if f["rule"] == "permission"]


def test_the_csv_template_carries_the_new_event_kinds(enterprise_admin):
    c = Client()
    c.force_login(enterprise_admin)
    body = c.get("/evidence/operation-log-template.csv").content.decode("utf-8-sig")
    actions = {row[3] for row in list(csv.reader(io.StringIO(body)))[1:]}
    assert {"friend_request_accepted", "message_replied", "friend_request_sent", "deleted_by_customer",
            "blocked_by_customer", "complaint"} <= actions
    report = analyse(body)  # the template itself is a valid log
    assert report.rows_malformed == 0 and report.health["outcomes_recorded"] is True


# --- stored, audited, shown, served ----------------------------------------------------------------


def _upload_and_analyse(appeal, by, text: str, name="log.csv"):
    item = svc.evidence_upload(appeal=appeal, by=by, kind="operation_log", file=files.upload(name, text.encode()))
    svc.evidence_analyse_log(item_id=item.pk)
    return item


@pytest.mark.django_db
def test_the_analysis_stores_the_health_and_its_flags_and_audits_them(draft_appeal, enterprise_admin):
    log, lines = two_day_log()
    item = _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    analysis = LogAnalysis.objects.get(evidence=item)
    assert analysis.status == "done"
    assert analysis.health["accounts"][0]["days"][0]["acceptance_rate"] == 0.025
    stored = RiskFlag.objects.get(evidence=item, rule="health_accept_low")
    assert stored.line_numbers == sorted(lines["d1_sent"] + lines["d1_accepted"])
    assert stored.get_rule_display() == "Friend request acceptance rate too low"
    event = AuditEvent.objects.filter(action="evidence.analyse_log", target_id=str(item.pk)).latest("id")
    assert event.after["health"] == {"accounts": 1, "account_days": 2, "outcomes_recorded": True,
                                     "flags": {"health_accept_low": 1, "health_reply_low": 1, "health_delblock_high": 1,
                                               "health_complaints": 1}}
    # the auto-resolution condition sees health flags like any risk flag
    assert svc.no_risk_flags_condition(draft_appeal)


def _case_page(user, appeal, language):
    c = Client()
    c.force_login(user)
    c.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = c.get(f"/appeals/{appeal.reference}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_case_page_shows_a_chart_per_account_with_the_thresholds(draft_appeal, enterprise_admin, language):
    log, _lines = two_day_log()
    _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    body = _case_page(enterprise_admin, draft_appeal, language)
    assert f'<html lang="{language}">' in body
    section = body[body.index('id="account-health"'):]
    section = section[: section.index("</section>")]
    assert section.count('<svg class="chart-svg chart-line"') == 1 and section.count('<svg class="chart-svg chart-bar"') == 1
    assert "<title>wx-1" in section and "<desc>" in section
    # threshold lines at 1 %, 5 % and 10 % (reply and delete/block share the 10 % line)
    assert section.count('class="threshold"') == 3
    assert re.search(r'data-day="2026-11-20" class="flagged">\s*<th scope="row">2026-11-20</th>\s*<td>80</td>\s*<td>2.5</td>'
                     r"\s*<td>20.0</td>\s*<td>4.3</td>\s*<td>0.0</td>", section)
    assert f'/api/v1/appeals/{draft_appeal.reference}/evidence/health/' in section


@pytest.mark.django_db
def test_a_first_layout_log_says_not_enough_data_on_the_page(draft_appeal, enterprise_admin):
    log = Log()
    log.many(D1, 30, "send_message")
    _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    body = _case_page(enterprise_admin, draft_appeal, "en")
    section = body[body.index('id="account-health"'):]
    assert "health-no-outcomes" in section and section.count("not enough data") >= 4
    assert "chart-line" not in section[: section.index("</section>")] and "chart-bar" in section


@pytest.mark.django_db
def test_the_health_api_gives_every_account_day_and_the_flags(draft_appeal, enterprise_admin, other_admin):
    log, lines = two_day_log()
    log.many(D2 + timedelta(hours=8), 5, "send_message", operator="wx-2")
    item = _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    url = f"/api/v1/appeals/{draft_appeal.reference}/evidence/health/"
    owner = Client()
    owner.force_login(enterprise_admin)
    [entry] = owner.get(url).json()
    assert entry["evidence"] == str(item.uuid) and entry["status"] == "done" and entry["outcomes_recorded"] is True
    assert entry["thresholds"]["ACCEPTANCE_RATE_MIN"] == 0.05
    assert [a["operator"] for a in entry["accounts"]] == ["wx-1", "wx-2"]
    d1 = entry["accounts"][0]["days"][0]
    assert d1["day"] == "2026-11-20" and d1["acceptance_rate"] == 0.025 and d1["requests_sent"] == 40
    assert sorted(f["rule"] for f in entry["flags"]) == ["health_accept_low", "health_complaints", "health_delblock_high",
                                                         "health_reply_low"]
    complaints = next(f for f in entry["flags"] if f["rule"] == "health_complaints")
    assert complaints["line_numbers"] == lines["d2_complaints"] and complaints["rule_label"] == "Complaints too high"

    listed = owner.get(f"/api/v1/appeals/{draft_appeal.reference}/evidence/{item.uuid}/").json()
    assert listed["links"]["health"].endswith(f"{url}?evidence={item.uuid}")
    only_wx2 = owner.get(url, {"operator": "wx-2", "evidence": str(item.uuid)}).json()
    assert [a["operator"] for a in only_wx2[0]["accounts"]] == ["wx-2"] and only_wx2[0]["flags"] == []
    bad = owner.get(url, {"evidence": "not-a-uuid", "operator": "x" * 101})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and set(bad.json()["fields"]) == {"evidence", "operator"}

    # tenancy: another enterprise's admin does not find the case; the desk does not see a draft
    foreign = Client()
    foreign.force_login(other_admin)
    response = foreign.get(url)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Client().get(url).status_code in (401, 403)


@pytest.mark.django_db
def test_the_health_panel_shows_nothing_to_another_tenant(draft_appeal, enterprise_admin, other_admin):
    log, _lines = two_day_log()
    _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    c = Client()
    c.force_login(other_admin)
    response = c.get(f"/appeals/{draft_appeal.reference}/")
    assert response.status_code == 404 and b"account-health" not in response.content


def test_the_openapi_schema_documents_the_health_endpoint():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    op = schema["paths"]["/api/v1/appeals/{reference}/evidence/health/"]["get"]
    assert {"200", "400", "401", "403", "404"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} >= {"reference", "evidence", "operator"}
    day = schema["components"]["schemas"]["HealthDayOutput"]["properties"]
    assert day["acceptance_rate"]["nullable"] is True and "complaint_rate" in day


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_health_charts_fit_a_phone(live_server, draft_appeal, enterprise_admin, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.browser.test_lifecycle import CHROMIUM_ARGS, PHONE

    log, _lines = two_day_log()
    log.many(D2 + timedelta(hours=8), 30, "send_message", operator="wx-sales-with-a-rather-long-account-name")
    _upload_and_analyse(draft_appeal, enterprise_admin, log.text())
    c = Client()
    c.force_login(enterprise_admin)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN")
            context.add_cookies([{"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/appeals/{draft_appeal.reference}/")
            panel = page.locator("#account-health")
            panel.scroll_into_view_if_needed()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            charts = page.locator("#account-health svg.chart-svg")
            assert charts.count() == 4  # two accounts: rates and activity each
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert 200 < box["width"] <= PHONE["width"]
            panel.screenshot(path=str(tmp_path / "health-390.png"))
            print("screenshot", tmp_path / "health-390.png")
        finally:
            browser.close()
