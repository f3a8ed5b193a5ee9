"""The manager's dashboard: series over time checked on the hand-computed `desk` fixture, the
server-rendered charts on the report page, and every figure's Excel-safe CSV."""

import csv
import io
import re
from datetime import date

import pytest
import time_machine
from django.test import Client

from appeals.shared.exceptions import PermissionDenied
from appeals.sla.reports import dashboard_series, parse_filters
from tests.sla.conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 12, 12)
PERIOD = {"start": "2026-03-02", "end": "2026-03-15"}
QUERY = "start=2026-03-02&end=2026-03-15"
W1, W2 = date(2026, 3, 2), date(2026, 3, 9)


def series(manager, **params):
    return dashboard_series(user=manager, filters=parse_filters({**PERIOD, **params}), now=NOW)


def test_series_for_the_whole_desk(desk, manager):
    s = series(manager)
    # Decided in week 1: minor c1 (6 h, met) and c6 (met), medium c2 (50 h, breached); none in week 2.
    compliance = {(r["week"], r["tier"]): (r["decided"], r["met"], r["compliance_pct"]) for r in s["compliance_weekly"]}
    assert compliance == {
        (W1, "minor"): (2, 2, 100.0), (W1, "medium"): (1, 0, 0.0), (W1, "severe"): (0, 0, None),
        (W2, "minor"): (0, 0, None), (W2, "medium"): (0, 0, None), (W2, "severe"): (0, 0, None),
    }
    # 6 h, 50 h, 76 h -> median 50, p90 70.8 (as the report's summary); nothing decided in week 2.
    assert s["decision_weekly"] == [
        {"week": W1, "decided": 3, "p50_h": 50.0, "p90_h": 70.8},
        {"week": W2, "decided": 0, "p50_h": None, "p90_h": None},
    ]
    # Open now: c3 in first review since 03-04 10:00 (8 days), c4 since 03-09 10:00 (3 days 2 h).
    backlog = {r["state"]: r for r in s["backlog"]}
    assert backlog["first_review"] == {"state": "first_review", "lt_1d": 0, "1_3d": 0, "3_7d": 1, "7_14d": 1, "ge_14d": 0, "total": 2}
    assert sum(r["total"] for r in s["backlog"]) == 2
    # Breaches by week of the due time: c2 (due 03-05 09:00, decided 11:00), c4 (due 03-11, open).
    # Near-breach: c3 passed its warning point 03-12 00:24, due 03-13 10:00, not breached yet.
    assert s["breaches_weekly"] == [
        {"week": W1, "breaches": 1, "near_breaches": 0},
        {"week": W2, "breaches": 1, "near_breaches": 1},
    ]


def test_series_follow_the_filters(desk, manager, other_enterprise):
    s = series(manager, enterprise=str(other_enterprise.pk))
    assert [r["decided"] for r in s["decision_weekly"]] == [0, 0]  # B's only closed case was withdrawn
    assert [(r["breaches"], r["near_breaches"]) for r in s["breaches_weekly"]] == [(0, 0), (1, 0)]
    assert sum(r["total"] for r in s["backlog"]) == 1
    s = series(manager, severity="severe")
    assert [(r["breaches"], r["near_breaches"]) for r in s["breaches_weekly"]] == [(0, 0), (0, 1)]


def test_series_need_the_manager_role(desk, first_reviewer):
    with pytest.raises(PermissionDenied):
        series(first_reviewer)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dashboard_page_draws_each_figure_as_svg_that_fits_a_phone(desk, manager):
    with time_machine.travel(NOW, tick=False):
        response = _client(manager).get(f"/manager/reports/sla/?{QUERY}")
    assert response.status_code == 200
    body = response.content.decode()
    figures = re.findall(r'<figure class="chart card" id="chart-([a-z]+)">(.*?)</figure>', body, re.S)
    assert [key for key, _html in figures] == ["compliance", "decision", "backlog", "breaches", "load"]
    for _key, html in figures:
        svg = re.search(r"<svg class=\"chart-svg[^>]*>", html).group(0)
        assert 'viewBox="0 0 400 220"' in svg and 'width="100%"' in svg and "style" not in svg
        assert "<script" not in html and " on" not in svg  # no script, no inline handlers (CSP)
    compliance = dict(figures)["compliance"]
    assert "100%" in compliance and "<circle" in compliance
    assert '<form method="get" class="report-filters filter-bar"' in body
    assert "guide.css" in body
    # Each figure links to its CSV.
    for table in ("compliance_weekly", "decision_weekly", "backlog", "breaches_weekly", "reviewers"):
        assert f'/manager/reports/sla/{table}.csv?{QUERY}' in body.replace("&amp;", "&")


@pytest.mark.parametrize(
    ("table", "header", "first_row"),
    [
        ("compliance_weekly", ["week", "tier", "decided", "met", "compliance_pct"], ["2026-03-02", "minor", "2", "2", "100.0"]),
        ("decision_weekly", ["week", "decided", "p50_h", "p90_h"], ["2026-03-02", "3", "50.0", "70.8"]),
        ("breaches_weekly", ["week", "breaches", "near_breaches"], ["2026-03-02", "1", "0"]),
        ("backlog", ["state", "lt_1d", "1_3d", "3_7d", "7_14d", "ge_14d", "total"], ["submitted", "0", "0", "0", "0", "0", "0"]),
    ],
)
def test_each_series_exports_as_excel_safe_csv(desk, manager, table, header, first_row):
    with time_machine.travel(NOW, tick=False):
        response = _client(manager).get(f"/manager/reports/sla/{table}.csv?{QUERY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"sla-{table}-2026-03-02-2026-03-15.csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == header and rows[1] == first_row


def test_reviewer_load_csv_neutralises_formulas(desk, manager):
    desk["r1"].username = "=HYPERLINK(\"http://x\")"
    desk["r1"].save(update_fields=["username"])
    with time_machine.travel(NOW, tick=False):
        response = _client(manager).get(f"/manager/reports/sla/reviewers.csv?{QUERY}")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert "'=HYPERLINK(\"http://x\")" in [r[0] for r in rows]


def test_dashboard_csv_refuses_non_managers(desk, first_reviewer):
    assert _client(first_reviewer).get(f"/manager/reports/sla/backlog.csv?{QUERY}").status_code == 403


def test_api_exports_the_dashboard_series_too(desk, manager):
    with time_machine.travel(NOW, tick=False):
        response = _client(manager).get(f"/api/v1/reports/sla/breaches_weekly.csv?{QUERY}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["week", "breaches", "near_breaches"], ["2026-03-02", "1", "0"], ["2026-03-09", "1", "1"]]


def test_the_overview_links_to_the_trends(manager):
    body = _client(manager).get("/manager/").content.decode()
    assert 'id="open-trends"' in body and "/manager/reports/sla/#dashboard" in body
