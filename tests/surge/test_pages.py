"""Surge pages: history, one alert with its server-drawn chart, acknowledge/resolve, settings."""

import re
from datetime import timedelta

import pytest

from appeals.models import SurgeAlert
from appeals.surge import services as surge
from tests import factories
from tests.surge.conftest import NOW, spread

pytestmark = pytest.mark.django_db


@pytest.fixture
def burst_alert(traffic):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent)
    traffic.submit(spread(30, end=NOW, minutes=3), enterprise=ent)
    surge.surge_scan(now=NOW)
    return SurgeAlert.objects.get(dimension="all")


def test_history_lists_alerts_and_detail_draws_the_volume(client, manager, burst_alert):
    client.force_login(manager)
    page = client.get("/surge/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/surge/{burst_alert.pk}/" in html and "All appeals" in html and "emergency-banner" in html

    detail = client.get(f"/surge/{burst_alert.pk}/").content.decode()
    assert "<svg" in detail and 'class="surge-chart"' in detail
    series = client.get(f"/surge/{burst_alert.pk}/").context["series"]
    # Every appeal of the slice around the alert is drawn: the 30 of the burst and the background.
    assert sum(n for _t, n in series.points) == _appeals_in(series)
    assert max(n for _t, n in series.points) >= 10  # the burst stands out as tall bars
    assert detail.count('class="bar"') == sum(1 for _t, n in series.points if n)
    # Drawn server-side: no chart script, only the site's own small script every page has.
    assert re.findall(r"<script[^>]*>", detail) == ['<script src="/static/appeals/site.js" defer>']


def _appeals_in(series):
    from appeals.models import Appeal

    return Appeal.objects.filter(submitted_at__gte=series.start, submitted_at__lt=series.end).count()


def test_manager_acknowledges_and_resolves_from_the_page(client, manager, burst_alert):
    client.force_login(manager)
    client.post(f"/surge/{burst_alert.pk}/acknowledge/", {"comment": "Looking"})
    burst_alert.refresh_from_db()
    assert burst_alert.state == "acknowledged"
    response = client.post(f"/surge/{burst_alert.pk}/resolve/", {"comment": "Done"}, follow=True)
    burst_alert.refresh_from_db()
    assert burst_alert.state == "resolved" and burst_alert.comment == "Done"
    # The same burst also opened its platform, kind and enterprise alerts: still an emergency.
    assert "emergency-banner" in response.content.decode()
    for other in SurgeAlert.objects.exclude(state="resolved"):
        response = client.post(f"/surge/{other.pk}/resolve/", follow=True)
    assert "emergency-banner" not in response.content.decode()


def test_reviewer_reads_but_cannot_act_applicant_cannot_read(client, first_reviewer, enterprise_admin, burst_alert):
    client.force_login(first_reviewer)
    assert client.get(f"/surge/{burst_alert.pk}/").status_code == 200
    client.post(f"/surge/{burst_alert.pk}/resolve/")
    burst_alert.refresh_from_db()
    assert burst_alert.state == "open"
    assert client.get("/surge/settings/").status_code == 403
    client.force_login(enterprise_admin)
    assert client.get("/surge/").status_code == 403
    assert client.get(f"/surge/{burst_alert.pk}/").status_code == 403


def test_settings_form_saves_and_reports_field_errors(client, manager):
    client.force_login(manager)
    form = client.get("/surge/settings/").content.decode()
    assert 'name="floor"' in form and 'value="10"' in form
    bad = client.post("/surge/settings/", {"window_minutes": 0, "floor": 5, "factor": 2, "history_days": 7, "quiet_windows": 3, "hotline": "x"})
    assert bad.status_code == 200 and "window_minutes" in bad.context["form"].errors
    ok = client.post("/surge/settings/", {"window_minutes": 15, "floor": 5, "factor": 2.5, "history_days": 14, "quiet_windows": 2, "hotline": "400-1"})
    assert ok.status_code == 302
    policy = surge.surge_policy()
    assert (policy.window_minutes, policy.floor, policy.factor, policy.history_days, policy.quiet_windows) == (15, 5, 2.5, 14, 2)
    assert timedelta(seconds=policy.counter_ttl_seconds) > timedelta(days=14)
