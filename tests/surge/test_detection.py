"""Synthetic traffic with a controlled clock, on PostgreSQL and Redis: what surges and what does not."""

from datetime import timedelta

import pytest

from appeals.models import AuditEvent, SurgeAlert, SurgeResolution, SurgeState
from appeals.surge import services as surge
from tests import factories
from tests.surge.conftest import NOW, spread

pytestmark = pytest.mark.django_db
ALL = surge.ALL_SLICE


def burst(traffic, n, *, enterprise, end=NOW, minutes=5, **kw):
    """n appeals in the last `minutes` before `end`, each checked as it is submitted."""
    alerts = []
    for t in sorted(spread(n, end=end, minutes=minutes)):
        (appeal,) = traffic.submit([t], enterprise=enterprise, count=False, **kw)
        alerts += surge.surge_check_submission(slices=surge.appeal_slices(appeal), at=t)
    return alerts


def test_steady_background_with_a_burst_opens_one_alert(traffic):
    ent = factories.EnterpriseFactory()
    # 2 appeals every 10 minutes around this time of day, all week, and today until the burst.
    traffic.daily(2, enterprise=ent)
    before = surge.surge_evaluate(slices=[ALL], now=NOW - timedelta(minutes=5), policy=surge.surge_policy())[ALL]
    assert before.surging is False

    alerts = burst(traffic, 25, enterprise=ent)

    alert = SurgeAlert.objects.get(dimension="all")
    # Opened by the 9th burst appeal: 2 + 9 = 11 > max(floor 10, 3 x usual 2).
    assert (alert.count, alert.usual, alert.ratio, alert.state) == (11, 2.0, 5.5, SurgeState.OPEN)
    assert sorted((a.dimension, a.value) for a in alerts) == sorted(
        [("all", ""), ("platform", "wecom"), ("kind", "short_ban"), ("enterprise", str(ent.pk))]
    )
    assert SurgeAlert.objects.count() == 4  # one per slice, not one per submission
    assert AuditEvent.objects.filter(action="surge.open").count() == 4
    # The scan a minute later agrees and opens nothing more.
    assert surge.surge_scan(now=NOW + timedelta(minutes=1)).opened == []


def test_slow_ramp_over_days_does_not_alert(traffic):
    ent = factories.EnterpriseFactory()
    # Volume at this time of day grows 15 % a day: 15, 17, 20, 23, 26, 30, 35 ... 40 today.
    for day in range(1, 8):
        traffic.daily(round(40 / 1.15**day), enterprise=ent, days=1, around=NOW - timedelta(days=day - 1), today=False)
    alerts = burst(traffic, 40, enterprise=ent, minutes=10)
    verdict = surge.surge_evaluate(slices=[ALL], now=NOW, policy=surge.surge_policy())[ALL]
    assert verdict.count == 40 and verdict.count > 10  # well above the floor ...
    assert verdict.usual == 23 and not verdict.surging  # ... but 1.7x the usual level, not 3x
    assert alerts == [] and surge.surge_scan(now=NOW).opened == []
    assert not SurgeAlert.objects.exists()


def test_burst_in_one_enterprise_alerts_for_that_enterprise_only(traffic):
    enterprises = [factories.EnterpriseFactory() for _ in range(6)]
    for ent in enterprises:
        traffic.daily(3, enterprise=ent)
    loud = enterprises[0]
    burst(traffic, 15, enterprise=loud)
    surge.surge_scan(now=NOW)

    assert list(SurgeAlert.objects.values_list("dimension", "value")) == [("enterprise", str(loud.pk))]
    alert = SurgeAlert.objects.get()
    assert alert.usual == 3 and alert.count == 11  # opened as soon as 11 > max(floor 10, 3 x 3)
    # Overall, 33 against a usual 18 is not a surge.
    assert not surge.surge_evaluate(slices=[ALL], now=NOW, policy=surge.surge_policy())[ALL].surging


def test_redis_flushed_mid_surge_is_rebuilt_from_the_database_with_the_same_decision(traffic, clear_surge_keys):
    ent = factories.EnterpriseFactory()
    traffic.daily(2, enterprise=ent)
    burst(traffic, 12, enterprise=ent)
    slices = surge.slices_of(platform="wecom", kind="short_ban", enterprise_id=ent.pk)
    policy = surge.surge_policy()
    live = surge.surge_evaluate(slices=slices, now=NOW, policy=policy, counts=surge.RedisCounts())
    assert live[ALL].surging and live[ALL].count == 13  # 1 background + 12 burst

    clear_surge_keys()  # Redis lost every counter mid-surge
    counts = surge.RedisCounts()
    assert counts.redis.get(counts.marker) is None
    rebuilt = surge.surge_evaluate(slices=slices, now=NOW, policy=policy, counts=counts)
    from_db = surge.surge_evaluate(slices=slices, now=NOW, policy=policy, counts=surge.DatabaseCounts())
    assert rebuilt == live == from_db
    assert counts.redis.get(counts.marker) is not None

    # Counting carries on from the rebuilt numbers, and the open alert is not opened twice.
    burst(traffic, 1, enterprise=ent, end=NOW + timedelta(seconds=30), minutes=1)
    assert surge.surge_evaluate(slices=[ALL], now=NOW + timedelta(seconds=30), policy=policy)[ALL].count == 14
    assert SurgeAlert.objects.filter(dimension="all").count() == 1


def test_embedded_mode_counts_from_the_database_and_decides_the_same(traffic, settings):
    settings.REDIS_URL = ""
    assert isinstance(surge.surge_counts(), surge.DatabaseCounts)
    ent = factories.EnterpriseFactory()
    traffic.daily(2, enterprise=ent, count=False)
    alerts = burst(traffic, 12, enterprise=ent)
    assert {(a.dimension, a.count, a.usual) for a in alerts if a.dimension == "all"} == {("all", 11, 2.0)}
    report = surge.surge_scan(now=NOW + timedelta(minutes=1))
    assert report.opened == [] and report.checked == 0  # every busy slice already has its alert


def test_auto_resolve_after_quiet_windows_and_not_before(traffic):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent, after=60)
    burst(traffic, 12, enterprise=ent, minutes=1)
    alert = SurgeAlert.objects.get(dimension="all")
    quiet_after = 3 * 10  # quiet_windows x window_minutes
    # The burst (minute NOW) is in the 10-minute window ending at every minute up to NOW + 9:
    # the slice surges until then (README: closes 30 minutes after the last surging minute).
    last_surging = NOW + timedelta(minutes=9)
    policy = surge.surge_policy()
    assert surge.minute_start(surge.surge_last_surging_minute(slice_=ALL, now=last_surging + timedelta(minutes=5), policy=policy)) == last_surging

    # Still busy a window later: stays open.
    assert surge.surge_scan(now=NOW + timedelta(minutes=5)).resolved == []
    assert surge.surge_scan(now=last_surging + timedelta(minutes=quiet_after - 1)).resolved == []
    alert.refresh_from_db()
    assert alert.state == SurgeState.OPEN

    report = surge.surge_scan(now=last_surging + timedelta(minutes=quiet_after))
    assert alert.pk in [a.pk for a in report.resolved] and len(report.resolved) == 4  # all four slices calmed down
    alert.refresh_from_db()
    assert alert.state == SurgeState.RESOLVED and alert.resolution == SurgeResolution.AUTO
    assert alert.resolved_at == last_surging + timedelta(minutes=quiet_after)
    assert AuditEvent.objects.filter(action="surge.resolve.auto", target_id=str(alert.pk)).count() == 1
    assert surge.surge_emergency_state().active is False


def test_continuing_surge_keeps_the_alert_open(traffic):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent)
    burst(traffic, 12, enterprise=ent, minutes=1)
    for k in range(1, 5):  # another wave every 10 minutes
        burst(traffic, 12, enterprise=ent, end=NOW + timedelta(minutes=10 * k), minutes=1)
    assert surge.surge_scan(now=NOW + timedelta(minutes=41)).resolved == []
    assert SurgeAlert.objects.get(dimension="all").state == SurgeState.OPEN


def test_a_manually_resolved_slice_is_not_reopened_by_the_same_wave(traffic, manager):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent)
    burst(traffic, 12, enterprise=ent, minutes=1)
    alert = SurgeAlert.objects.get(dimension="all")
    surge.surge_alert_resolve(alert=alert, by=manager, now=NOW + timedelta(minutes=1))
    # Still surging a minute later, but the manager has dealt with it: no new page.
    burst(traffic, 5, enterprise=ent, end=NOW + timedelta(minutes=2), minutes=1)
    assert surge.surge_evaluate(slices=[ALL], now=NOW + timedelta(minutes=2), policy=surge.surge_policy())[ALL].surging
    assert surge.surge_scan(now=NOW + timedelta(minutes=2)).opened == []
    assert SurgeAlert.objects.filter(dimension="all").count() == 1
    # A new wave after the grace period (3 windows) opens a new alert.
    burst(traffic, 15, enterprise=ent, end=NOW + timedelta(minutes=45), minutes=1)
    assert SurgeAlert.objects.filter(dimension="all").count() == 2


def test_embedded_mode_without_beat_auto_resolves_from_the_request_path(traffic, settings, clear_surge_keys):
    """No broker, no beat: the scan runs in-process, at most once a minute, when pages ask."""
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", True
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent, count=False)
    burst(traffic, 12, enterprise=ent, minutes=1)
    assert SurgeAlert.objects.filter(state="open").count() == 4
    clear_surge_keys()  # the once-a-minute throttle: a minute has passed
    # Days later (the real clock), nothing since: the first page render closes them all.
    assert surge.surge_emergency_state().active is False
    assert set(SurgeAlert.objects.values_list("resolution", flat=True)) == {SurgeResolution.AUTO}
