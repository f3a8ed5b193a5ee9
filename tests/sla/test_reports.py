"""Report figures checked against values computed by hand on a small fixture, and the CSV."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.db.models import F, Q

from appeals.models import AppealSla, SurgeAlert
from appeals.shared.exceptions import PermissionDenied, ValidationFailed
from appeals.sla.reports import PercentileCont, Seconds, _percentiles, parse_filters, report_csv, report_table, sla_report
from tests.sla.conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 12, 12)
PERIOD = {"start": "2026-03-02", "end": "2026-03-15"}


def report(manager, **params):
    return sla_report(user=manager, filters=parse_filters({**PERIOD, **params}), now=NOW)


def test_all_figures_for_the_whole_desk(desk, manager):
    rep = report(manager)
    s = rep["summary"]
    assert (s["opened"], s["closed"], s["approved"], s["rejected"], s["withdrawn"]) == (5, 4, 2, 1, 1)
    assert s["approval_rate_pct"] == 66.7
    assert (s["breached_open"], s["at_risk_open"], s["paused_open"]) == (1, 1, 0)
    # first review: 2 h, 4 h, 8 h -> median 4, p90 = 4 + 0.8 * 4 = 7.2
    assert (s["first_review_p50_h"], s["first_review_p90_h"]) == (4.0, 7.2)
    # decision: 6 h, 50 h, 76 h -> median 50, p90 = 50 + 0.8 * 26 = 70.8
    assert (s["decision_p50_h"], s["decision_p90_h"]) == (50.0, 70.8)
    tiers = {row["tier"]: (row["closed"], row["met"], row["compliance_pct"]) for row in rep["compliance"]}
    assert tiers == {"minor": (2, 2, 100.0), "medium": (1, 0, 0.0), "severe": (0, 0, None)}
    assert [(r["reference"], r["hours_left"]) for r in rep["breached"]] == [(desk["cases"][3].reference, -26.0)]
    assert [(r["reference"], r["hours_left"]) for r in rep["at_risk"]] == [(desk["cases"][2].reference, 22.0)]
    reviewers = {r["reviewer"]: (r["first_done"], r["second_done"], r["throughput"], r["open_load"]) for r in rep["reviewers"]}
    assert reviewers == {"reviewer-1": (3, 0, 3, 0), "reviewer-2": (0, 3, 3, 1)}
    assert rep["trend"] == [
        {"week": date(2026, 3, 2), "opened": 3, "closed": 3},
        {"week": date(2026, 3, 9), "opened": 2, "closed": 1},
    ]
    assert rep["surges"] == []  # no surge alert in the fixture


def test_surge_history_lists_the_alerts_opened_in_the_period(desk, manager):
    def alert(opened, **extra):
        return SurgeAlert.objects.create(dimension="platform", value="wecom", window_minutes=10, window_start=opened,
                                         count=40, usual=7.0, floor=20, factor=3.0, opened_at=opened, **extra)

    alert(at(2026, 2, 20, 9), state="resolved", resolved_at=at(2026, 2, 20, 11))  # before the period
    inside = alert(at(2026, 3, 10, 10, 30))
    rows = report(manager)["surges"]
    assert [(r["id"], r["slice"], r["count"], r["usual"], r["resolved_at"]) for r in rows] == [
        (inside.pk, "Platform: WeCom", 40, 7.0, None)
    ]
    assert report_table(report(manager), "surges")[1][0][1:5] == ["Platform: WeCom", 10, 40, 7.0]


@pytest.mark.parametrize(
    "params, opened, closed, breached, at_risk",
    [
        ({"enterprise": "B"}, 2, 1, 1, 0),
        ({"severity": "minor"}, 2, 3, 0, 0),
        ({"reviewer": "R1"}, 2, 3, 0, 0),
        ({"platform": "dingtalk"}, 1, 0, 1, 0),
        ({"kind": "entity_ban"}, 1, 0, 0, 1),
        ({"start": "2026-03-09"}, 2, 1, 1, 1),
    ],
)
def test_filters(desk, manager, other_enterprise, params, opened, closed, breached, at_risk):
    lookup = {"B": str(other_enterprise.pk), "R1": str(desk["r1"].pk)}
    rep = report(manager, **{k: lookup.get(v, v) for k, v in params.items()})
    s = rep["summary"]
    assert (s["opened"], s["closed"], s["breached_open"], s["at_risk_open"]) == (opened, closed, breached, at_risk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentile_cont is PostgreSQL's")
def test_sqlite_percentile_fallback_agrees_with_percentile_cont(desk):
    qs = AppealSla.objects.filter(first_claimed_at__isnull=False)
    expr = Seconds(F("first_claimed_at"), F("submitted_at"))
    fallback = _percentiles(qs, expr)
    native = qs.aggregate(p50=PercentileCont(expr, 0.5, filter=Q(pk__isnull=False)), p90=PercentileCont(expr, 0.9))
    assert fallback[0.5] == pytest.approx(native["p50"]) and fallback[0.9] == pytest.approx(native["p90"])


def test_figures_take_a_handful_of_queries_whatever_the_number_of_cases(desk, manager, django_assert_max_num_queries):
    # SQLite computes each percentile with its own ORDER BY ... LIMIT query (2 figures x 3 queries more).
    # One of them is the surge history (the alerts opened in the period), one the outcome code counts.
    with django_assert_max_num_queries(12 if connection.vendor == "postgresql" else 18):
        report(manager)


def test_only_managers_see_reports(desk, first_reviewer, enterprise_admin):
    for user in (first_reviewer, enterprise_admin):
        with pytest.raises(PermissionDenied):
            sla_report(user=user, filters=parse_filters(PERIOD))


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "start"),
        ({"start": "2024-01-01", "end": "2026-03-01"}, "start"),
        ({"severity": "huge"}, "severity"),
        ({"platform": "qq"}, "platform"),
        ({"enterprise": "abc"}, "enterprise"),
        ({"enterprise": "999999"}, "enterprise"),
        ({"reviewer": "-1"}, "reviewer"),
    ],
)
def test_bad_filters_are_field_errors(db, params, field):
    with pytest.raises(ValidationFailed) as exc:
        parse_filters(params)
    assert field in exc.value.fields


def test_csv_has_bom_and_neutralises_formulas(desk, manager):
    rep = report(manager)
    rep["breached"][0]["enterprise"] = "=cmd|' /C calc'!A0"
    rep["at_risk"][0]["enterprise"] = "上海晨光贸易有限公司"
    rep["at_risk"].append({**rep["at_risk"][0], "enterprise": "@SUM(A1)", "reviewer": "+1", "state": "-2", "reference": "\tx"})
    rep["at_risk"].append({**rep["at_risk"][0], "enterprise": "\rboom", "reviewer": "a=b"})
    text = report_csv(rep, "breached")
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["reference", "enterprise", "severity", "state", "reviewer", "due_at", "hours_left", "calendar_unconfirmed"]
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][6] == "-26.0"  # a number stays a number
    rows = list(csv.reader(io.StringIO(report_csv(rep, "at_risk").lstrip("\ufeff"))))
    assert rows[1][1] == "上海晨光贸易有限公司"
    assert (rows[2][0], rows[2][1], rows[2][3], rows[2][4]) == ("'\tx", "'@SUM(A1)", "'-2", "'+1")
    assert rows[3][1] == "'\rboom" and rows[3][4] == "a=b"
    summary = list(csv.reader(io.StringIO(report_csv(rep, "summary").lstrip("\ufeff"))))
    assert ["opened", "5"] in summary
