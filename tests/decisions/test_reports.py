"""Outcome codes in the SLA report, and time to recovery, on fixtures with known times."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from appeals.core.models import AppealState
from appeals.sla.recovery import recovery_filters, time_to_recovery
from appeals.sla.reports import parse_filters, report_csv, sla_report
from tests import factories
from tests.api.conftest import client_for
from tests.sla.conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 12, 12)
PERIOD = {"start": "2026-03-02", "end": "2026-03-15"}
SH = ZoneInfo("Asia/Shanghai")


def test_sla_report_counts_outcome_codes_json_csv_and_page(desk, manager):
    report = sla_report(user=manager, filters=parse_filters(PERIOD), now=NOW)
    counts = {o["code"]: (o["outcome"], o["count"]) for o in report["outcomes"]}
    # c1 restored, c2 refused (violation confirmed), c6 restored with warning; c5 withdrawn is no decision.
    assert counts == {"restored": ("approve", 1), "restored_with_warning": ("approve", 1),
                      "refused_violation_confirmed": ("reject", 1)}
    rows = list(csv.reader(io.StringIO(report_csv(report, "outcomes").lstrip("\ufeff"))))
    assert rows[0] == ["code", "outcome", "label_en", "label_zh", "count"]
    assert ["refused_violation_confirmed", "reject", "Refused: violation confirmed", "未通过：违规属实", "1"] in rows
    api = client_for(manager).get("/api/v1/reports/sla/", {**PERIOD, "live": "1"}).json()
    assert {o["code"]: o["count"] for o in api["outcomes"]} == {k: v[1] for k, v in counts.items()}
    r = client_for(manager).get("/api/v1/reports/sla/outcomes.csv", PERIOD)
    assert r.status_code == 200 and b"restored_with_warning" in r.content


def test_sla_report_page_shows_outcome_codes(desk, manager):
    from django.test import Client

    client = Client()
    client.force_login(manager)
    page = client.get("/manager/reports/sla/", {**PERIOD, "live": "1"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-code="refused_violation_confirmed"' in page and "未通过：违规属实" in page


def test_time_to_recovery_on_the_desk_fixture(desk, manager):
    # c1: banned 03-02 10:00, restored 03-02 16:00 (6 h); c6: banned 02-27 10:00, restored 03-02 14:00 (76 h).
    f = recovery_filters(user=manager, params={"start": "2026-03-01", "end": "2026-03-31"})
    report = time_to_recovery(user=manager, filters=f)
    assert report["overall"] == {"count": 2, "median_h": 41.0, "p90_h": 69.0}
    assert report["by_month"] == [{"month": "2026-03", "count": 2, "median_h": 41.0, "p90_h": 69.0}]
    assert report["by_kind"] == [{"kind": "short_ban", "count": 2, "median_h": 41.0, "p90_h": 69.0}]
    ent = desk["cases"][0].enterprise
    assert report["rows"] == [{"month": "2026-03", "count": 2, "median_h": 41.0, "p90_h": 69.0, "enterprise_id": ent.pk,
                               "enterprise": ent.name, "kind": "short_ban"}]


def _restored(enterprise, kind, banned, decided):
    incident = factories.IncidentFactory(account=factories.AccountFactory(enterprise=enterprise), kind=kind, banned_at=banned)
    return factories.AppealFactory(incident=incident, state=AppealState.APPROVED, decided_at=decided, outcome_code="restored")


@pytest.fixture
def recoveries(enterprise, other_enterprise):
    t = lambda *a: datetime(*a, tzinfo=SH)  # noqa: E731
    _restored(enterprise, "short_ban", t(2026, 1, 5, 8), t(2026, 1, 5, 20))          # 12 h, Jan, A, short_ban
    _restored(enterprise, "short_ban", t(2026, 1, 10, 8), t(2026, 1, 11, 8))         # 24 h, Jan, A, short_ban
    _restored(enterprise, "permanent_ban", t(2026, 1, 20, 0), t(2026, 2, 3, 0))      # 336 h, Feb, A, permanent
    _restored(other_enterprise, "short_ban", t(2026, 1, 31, 20), t(2026, 2, 1, 2))   # 6 h, Feb (Shanghai), B
    rejected = _restored(other_enterprise, "short_ban", t(2026, 1, 2), t(2026, 1, 3))  # refused: not a recovery
    rejected.state = AppealState.REJECTED
    rejected.save()


def test_time_to_recovery_per_enterprise_kind_and_month(recoveries, manager, enterprise, other_enterprise):
    f = recovery_filters(user=manager, params={"start": "2026-01-01", "end": "2026-02-28"})
    report = time_to_recovery(user=manager, filters=f)
    assert report["overall"]["count"] == 4
    assert [(m["month"], m["count"], m["median_h"]) for m in report["by_month"]] == [("2026-01", 2, 18.0), ("2026-02", 2, 171.0)]
    assert {(r["month"], r["enterprise_id"], r["kind"], r["count"], r["median_h"]) for r in report["rows"]} == {
        ("2026-01", enterprise.pk, "short_ban", 2, 18.0),
        ("2026-02", enterprise.pk, "permanent_ban", 1, 336.0),
        ("2026-02", other_enterprise.pk, "short_ban", 1, 6.0),
    }
    only_kind = time_to_recovery(user=manager, filters=recovery_filters(
        user=manager, params={"start": "2026-01-01", "end": "2026-02-28", "kind": "short_ban"}))
    assert only_kind["overall"] == {"count": 3, "median_h": 12.0, "p90_h": 21.6}


def test_time_to_recovery_is_tenant_scoped(recoveries, enterprise_admin, other_enterprise, first_reviewer):
    # An enterprise admin sees their own enterprise only, whatever they ask for.
    params = {"start": "2026-01-01", "end": "2026-02-28", "enterprise": str(other_enterprise.pk)}
    r = client_for(enterprise_admin).get("/api/v1/reports/time-to-recovery/", params)
    assert r.status_code == 200, r.json()
    assert {row["enterprise_id"] for row in r.json()["rows"]} == {enterprise_admin.enterprise_id}
    assert r.json()["overall"]["count"] == 3
    assert client_for(first_reviewer).get("/api/v1/reports/time-to-recovery/", params).status_code == 403
    assert client_for(None).get("/api/v1/reports/time-to-recovery/").status_code == 401


def test_time_to_recovery_api_filters_csv_and_errors(recoveries, manager, other_enterprise):
    c = client_for(manager)
    r = c.get("/api/v1/reports/time-to-recovery/", {"start": "2026-01-01", "end": "2026-02-28",
                                                     "enterprise": other_enterprise.pk})
    assert r.status_code == 200 and r.json()["overall"] == {"count": 1, "median_h": 6.0, "p90_h": 6.0}
    r = c.get("/api/v1/reports/time-to-recovery/", {"kind": "nonsense", "start": "2026-13-01"})
    assert r.status_code == 400 and {"kind", "start"} <= set(r.json()["fields"])
    r = c.get("/api/v1/reports/time-to-recovery.csv", {"start": "2026-01-01", "end": "2026-02-28"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["month", "enterprise_id", "enterprise", "kind", "count", "median_h", "p90_h"] and len(rows) == 4
    schema = c.get("/api/schema/").content.decode()
    assert "/api/v1/reports/time-to-recovery/" in schema and "/api/v1/appeals/{reference}/precedents/" in schema


def test_manager_dashboard_shows_time_to_recovery(recoveries, manager):
    from django.test import Client

    client = Client()
    client.force_login(manager)
    page = client.get("/manager/", {"start": "2026-01-01", "end": "2026-02-28"}).content.decode()
    assert 'id="time-to-recovery"' in page and 'data-month="2026-02"' in page and 'data-kind="permanent_ban"' in page
    csv_r = client.get("/manager/reports/time-to-recovery.csv", {"start": "2026-01-01", "end": "2026-02-28"})
    assert csv_r.status_code == 200 and "permanent_ban" in csv_r.content.decode("utf-8")
