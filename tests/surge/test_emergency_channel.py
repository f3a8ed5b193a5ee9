"""While an alert is open: the banner, emergency flags on the slice's new appeals, queue order."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from appeals.core import selectors
from appeals.core.services import appeals as appeal_services
from appeals.models import AuditEvent
from appeals.surge import services as surge
from appeals.surge.context import emergency
from tests import builders, factories
from tests.surge.conftest import NOW

pytestmark = pytest.mark.django_db


def open_alert(slice_, now=NOW):
    verdict = surge.surge_rule(count=30, history=[2] * 7, floor=10, factor=3.0)
    return surge.surge_alert_open(slice_=slice_, verdict=verdict, policy=surge.surge_policy(), now=now)


def file_and_submit(enterprise, admin, phone, django_capture_on_commit_callbacks):
    incident = factories.IncidentFactory(account=factories.AccountFactory(enterprise=enterprise), created_by=admin)
    draft = appeal_services.appeal_create(by=admin, incident=incident, statement="Please lift the ban.", contact_phone=phone)
    with django_capture_on_commit_callbacks(execute=True):
        return builders.submitted_appeal(draft, admin)  # evidence complete, both proofs given


def banner(user):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string("appeals/partials/emergency_banner.html", emergency(request), request=request)


def test_new_appeals_in_the_surging_slice_are_flagged_and_sorted_first(
    enterprise, enterprise_admin, other_enterprise, other_admin, first_reviewer, django_capture_on_commit_callbacks
):
    before = file_and_submit(enterprise, enterprise_admin, "13811110000", django_capture_on_commit_callbacks)
    assert before.is_emergency is False
    open_alert(("enterprise", str(enterprise.pk)))

    during = file_and_submit(enterprise, enterprise_admin, "13811110001", django_capture_on_commit_callbacks)
    elsewhere = file_and_submit(other_enterprise, other_admin, "13811110002", django_capture_on_commit_callbacks)
    during.refresh_from_db()
    elsewhere.refresh_from_db()
    assert during.is_emergency is True
    assert elsewhere.is_emergency is False  # another slice: business as usual

    queue = list(selectors.first_review_queue(user=first_reviewer))
    assert queue[0] == during  # filed last, handled first
    assert set(queue[1:]) == {before, elsewhere}
    badge = render_to_string("appeals/partials/appeal_badges.html", {"appeal": during})
    assert "Emergency" in badge
    assert render_to_string("appeals/partials/appeal_badges.html", {"appeal": before}).strip() == ""


def test_opening_flags_the_open_appeals_that_made_the_burst(traffic):
    ent = factories.EnterpriseFactory()
    from datetime import timedelta

    in_window = traffic.submit([NOW - timedelta(minutes=3)], enterprise=ent, count=False)[0]
    too_old = traffic.submit([NOW - timedelta(minutes=30)], enterprise=ent, count=False)[0]
    closed = traffic.submit([NOW - timedelta(minutes=2)], enterprise=ent, count=False, state="withdrawn")[0]
    alert = open_alert(("enterprise", str(ent.pk)))
    for appeal in (in_window, too_old, closed):
        appeal.refresh_from_db()
    assert (in_window.is_emergency, too_old.is_emergency, closed.is_emergency) == (True, False, False)
    assert AuditEvent.objects.get(action="surge.open", target_id=str(alert.pk)).after["flagged_appeals"] == 1


def test_banner_shows_the_hotline_while_an_alert_is_open_and_closes_with_it(enterprise_admin, manager):
    assert banner(enterprise_admin).strip() == ""
    alert = open_alert(surge.ALL_SLICE)
    html = banner(enterprise_admin)
    assert "emergency-banner" in html and "400-999-0000" in html and 'href="tel:400-999-0000"' in html

    surge.surge_alert_acknowledge(alert=alert, by=manager)
    assert "400-999-0000" in banner(enterprise_admin)  # acknowledged is still an emergency
    surge.surge_alert_resolve(alert=alert, by=manager, comment="Platform confirmed the wave is over")
    assert banner(enterprise_admin).strip() == ""


def test_manager_counter_and_nav_link(manager):
    request = RequestFactory().get("/")
    request.user = manager
    open_alert(surge.ALL_SLICE)
    open_alert(("platform", "wecom"))
    html = render_to_string("appeals/partials/manager_surge.html", emergency(request), request=request)
    assert "2 open alerts" in html and "/surge/?state=open" in html
    nav = render_to_string("appeals/partials/nav_extra.html", {"user": manager})
    assert 'href="/surge/"' in nav


def test_scan_flags_appeals_the_listener_missed(traffic):
    """An appeal whose transaction ran while the alert was being opened is not flagged by the
    listener; the next scan catches it."""
    from datetime import timedelta

    ent = factories.EnterpriseFactory()
    alert = open_alert(("enterprise", str(ent.pk)))
    (missed,) = traffic.submit([NOW + timedelta(seconds=20)], enterprise=ent, count=False)
    assert missed.is_emergency is False
    report = surge.surge_scan(now=NOW + timedelta(minutes=1))
    missed.refresh_from_db()
    assert missed.is_emergency is True and report.flagged == 1
    assert alert.state == "open"
