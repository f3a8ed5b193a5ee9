"""The report API, page and CSV downloads over HTTP, and the SLA clock in the reviewer queues."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from appeals.core.selectors import first_review_queue
from appeals.models import AppealSla
from appeals.sla.selectors import by_sla_due
from tests.sla.conftest import file_case

pytestmark = pytest.mark.django_db
PERIOD = "start=2026-03-02&end=2026-03-15"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_api_report_for_a_manager(desk, manager):
    response = client_for(manager).get(f"/api/v1/reports/sla/?{PERIOD}")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["opened"] == 5 and body["summary"]["closed"] == 4
    assert body["summary"]["decision_p90_h"] == 70.8
    assert [t["compliance_pct"] for t in body["compliance"]] == [100.0, 0.0, None]
    assert body["filters"] == {"start": "2026-03-02", "end": "2026-03-15"}
    assert body["surges"] == []


def test_api_refuses_non_managers_and_anonymous(desk, first_reviewer, enterprise_admin):
    for user in (first_reviewer, enterprise_admin):
        response = client_for(user).get(f"/api/v1/reports/sla/?{PERIOD}")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Client().get("/api/v1/reports/sla/").status_code in (401, 403)


def test_api_bad_filter_is_a_field_error(manager):
    response = client_for(manager).get("/api/v1/reports/sla/?start=2026-02-30&severity=x")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"start", "severity"}


def test_api_csv(desk, manager):
    response = client_for(manager).get(f"/api/v1/reports/sla/compliance.csv?{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sla-compliance-2026-03-02-2026-03-15.csv"'
    assert response.content.startswith(b"\xef\xbb\xbftier,target,closed,met,breached,compliance_pct\r\n")
    assert b"minor,24 hours,2,2,0,100.0" in response.content
    assert client_for(manager).get(f"/api/v1/reports/sla/secrets.csv?{PERIOD}").status_code == 400


def test_page_shows_figures_chart_and_csv_links(desk, manager):
    response = client_for(manager).get(f"/manager/reports/sla/?{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<td data-figure="opened">5</td>' in html
    assert '<td data-figure="closed">4</td>' in html
    assert "<svg" in html and 'class="opened"' in html and "cdn" not in html.lower()
    assert f"/manager/reports/sla/reviewers.csv?{PERIOD.replace('&', '&amp;')}" in html
    assert desk["cases"][2].reference in html or desk["cases"][3].reference in html
    assert "Surge history" in html


def test_page_csv_is_excel_ready(desk, manager):
    response = client_for(manager).get(f"/manager/reports/sla/trend.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.content.decode("utf-8").splitlines()[:3] == ["\ufeffweek,opened,closed", "2026-03-02,3,3", "2026-03-09,2,1"]


def test_page_refuses_reviewers_and_reports_bad_filters(desk, manager, first_reviewer):
    assert client_for(first_reviewer).get("/manager/reports/sla/").status_code == 403
    response = client_for(manager).get("/manager/reports/sla/?end=2026-01-01&start=2026-02-01")
    assert response.status_code == 400
    assert 'data-field="start"' in response.content.decode()


def test_schema_lists_the_report_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(public=True)["paths"]
    assert "/api/v1/reports/sla/" in paths and "/api/v1/reports/sla/{table}.csv" in paths


def test_queue_is_ordered_by_due_time_and_renders_clocks_without_extra_queries(
    enterprise_admin, enterprise, first_reviewer, django_assert_num_queries
):
    from tests import factories

    now = timezone.now()
    cases = [
        file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity=sev, when=now)
        for sev in ("medium", "minor", "severe", "minor")
    ]
    queue = by_sla_due(first_review_queue(user=first_reviewer))
    due = list(AppealSla.objects.order_by("due_at", "appeal__submitted_at", "appeal_id").values_list("appeal_id", flat=True))
    with django_assert_num_queries(1):
        rows = list(queue)
        html = "".join(render_to_string("appeals/partials/sla_clock.html", {"appeal": a}) for a in rows)
    assert [a.pk for a in rows] == due
    assert rows[0].pk in (cases[1].pk, cases[3].pk)  # the minor ones (24 h) come first
    assert html.count('data-sla-status="running"') == 4
    assert "23h 59m left" in html


def test_all_tenant_report_is_served_from_the_precomputed_snapshot(desk, manager, enterprise):
    import time_machine

    from appeals.models import ReportSnapshot
    from appeals.sla.reports import report_snapshots_refresh
    from tests.sla.conftest import at

    client = client_for(manager)
    day = at(2026, 3, 15, 20)
    with time_machine.travel(day, tick=False):
        assert report_snapshots_refresh() == ["all:30", "all:90", "all:365"]
        url = "/api/v1/reports/sla/?start=2026-02-14&end=2026-03-15"  # the last 30 days
        snap = client.get(url).json()
        live = client.get(url + "&live=1").json()
        filtered = client.get(url + f"&enterprise={enterprise.pk}").json()
        page = client.get("/manager/reports/sla/?start=2026-02-14&end=2026-03-15").content.decode()
        csv_body = client.get("/manager/reports/sla/breached.csv?start=2026-02-14&end=2026-03-15").content.decode()
    assert (snap["source"], live["source"], filtered["source"]) == ("snapshot", "live", "live")
    assert snap["summary"] == live["summary"] and snap["trend"] == live["trend"] and snap["compliance"] == live["compliance"]
    assert snap["summary"]["opened"] == 6  # case 6 (Feb 27) is inside these 30 days
    assert snap["generated_at"].startswith("2026-03-15T20:00")
    assert 'data-source="snapshot"' in page and "2026-03-15 20:00" in page
    assert desk["cases"][3].reference in csv_body
    assert ReportSnapshot.objects.count() == 3
