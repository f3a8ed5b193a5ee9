"""One SLA clock: the case page, the queue, the manager's report and the API agree on the due
time and the time left, in review, while paused and after resuming."""

import re

import pytest
import time_machine
from django.urls import reverse

from appeals.core.services import appeals as svc
from appeals.models import AppealSla
from appeals.sla.clock import clock_of, duration_text
from tests.api.conftest import client_for
from tests.sla.conftest import at, file_case

pytestmark = pytest.mark.django_db


def _api(user, appeal):
    response = client_for(user).get(f"/api/v1/appeals/{appeal.reference}/sla/")
    assert response.status_code == 200, response.content
    return response.json()


def _clock_text(client, url) -> str:
    html = client.get(url).content.decode()
    match = re.search(r'<span class="sla-clock[^>]*>(.*?)</span>', html, re.S)
    assert match, url
    return " ".join(match.group(1).split())


def test_every_view_agrees_in_review_paused_and_resumed(china_calendar, enterprise_admin, account, first_reviewer, client):
    # A severe case (7 working days) enters review Mon 2026-03-02 10:00: due Wed 03-11 10:00.
    appeal = file_case(admin=enterprise_admin, account=account, severity="severe", when=at(2026, 3, 2, 10))
    client.force_login(first_reviewer)
    with time_machine.travel(at(2026, 3, 2, 11), tick=False):
        svc.appeal_claim(appeal=appeal, by=first_reviewer)
        running = _api(first_reviewer, appeal)
        assert running["status"] == "running" and running["due_at"].startswith("2026-03-11T10:00")
        assert running["remaining_seconds"] == (8 * 24 + 23) * 3600 and running["remaining"] == "8d 23h"
        page = _clock_text(client, reverse("appeal_detail", args=[appeal.reference]))
        assert "8d 23h" in page and "2026-03-11 10:00" in page
        svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="request_info", comment="请补充日志")
        paused = _api(first_reviewer, appeal)
        # Paused at the same moment: the same time left and the same due time if it resumed now.
        assert paused["status"] == "paused"
        assert paused["remaining_seconds"] == running["remaining_seconds"] and paused["due_at"] == running["due_at"]
        assert "8d 23h" in _clock_text(client, reverse("appeal_detail", args=[appeal.reference]))
    with time_machine.travel(at(2026, 3, 4, 11), tick=False):  # two days later, still paused
        paused_later = _api(first_reviewer, appeal)
        # Nothing was spent while paused: still 7 working days minus the first hour, from now.
        assert paused_later["due_at"].startswith("2026-03-13T10:00")
        assert paused_later["remaining"] == "8d 23h"
        svc.appeal_resubmit(appeal=appeal, by=enterprise_admin)
        resumed = _api(first_reviewer, appeal)
        assert resumed["status"] == "running" and resumed["due_at"] == paused_later["due_at"]
        assert resumed["remaining_seconds"] == paused_later["remaining_seconds"]
        queue = _clock_text(client, reverse("queue_first"))
        assert resumed["remaining"] in queue and "2026-03-13 10:00" in queue
        clock = clock_of(AppealSla.objects.get(appeal=appeal))
        assert duration_text(clock.remaining_seconds) == resumed["remaining"]


def test_the_report_lists_the_same_hours_left(desk, manager):
    with time_machine.travel(at(2026, 3, 12, 12), tick=False):
        report = client_for(manager).get("/api/v1/reports/sla/", {"start": "2026-03-01", "end": "2026-03-12"}).json()
        rows = report["at_risk"] + report["breached"]
        assert rows
        for row in rows:
            api = _api(manager, type("A", (), {"reference": row["reference"]}))
            assert row["due_at"] == api["due_at"]
            assert row["hours_left"] == round(api["remaining_seconds"] / 3600, 1)


def test_the_clock_of_another_tenants_case_is_404(submitted_appeal, other_admin):
    response = client_for(other_admin).get(f"/api/v1/appeals/{submitted_appeal.reference}/sla/")
    assert response.status_code == 404
