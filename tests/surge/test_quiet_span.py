"""When a surge is over: every minute of the quiet span judged on a sliding window.

The pure part (appeals/surge/rule.py) against brute force, with hypothesis; then the real beat
task (`appeals.tasks.surge_scan`, as Celery runs it) minute by minute under a controlled clock:
a burst straddling a 10-minute boundary, and a ban wave pulsing every 20 minutes."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st

from appeals.models import Message, SurgeAlert, SurgeResolution, SurgeState
from appeals.shared.registry import beat_schedule
from appeals.surge import services as surge
from appeals.surge.rule import last_surging, sliding_sums, surge_rule, surging_minutes
from config.celery import app as celery_app
from tests import builders, factories
from tests.surge.conftest import NOW

ALL = surge.ALL_SLICE
W, FLOOR, FACTOR, SPAN = 10, 10, 3.0, 30

buckets = st.lists(st.integers(min_value=0, max_value=8), min_size=SPAN + W - 1, max_size=SPAN + W - 1)


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=60), st.integers(min_value=1, max_value=15))
def test_sliding_sums_are_the_sum_of_every_run(values, window):
    expected = [sum(values[i : i + window]) for i in range(len(values) - window + 1)]
    assert sliding_sums(values, window) == expected


@settings(max_examples=150)
@given(today=buckets, history=st.lists(buckets, min_size=0, max_size=7))
def test_each_minute_is_judged_by_the_window_ending_there(today, history):
    flags = surging_minutes(today=today, history=history, window=W, floor=FLOOR, factor=FACTOR)
    assert len(flags) == SPAN
    for i, flag in enumerate(flags):
        count = sum(today[i : i + W])
        usual = [sum(day[i : i + W]) for day in history]
        assert flag == surge_rule(count=count, history=usual, floor=FLOOR, factor=FACTOR).surging


@settings(max_examples=150)
@given(today=buckets, history=st.lists(buckets, min_size=0, max_size=7))
def test_never_quieter_than_the_back_to_back_windows(today, history):
    """Whatever the three back-to-back windows ending now would have seen, the sliding window
    sees too: it can only keep an alert open longer, never close it earlier."""
    flags = surging_minutes(today=today, history=history, window=W, floor=FLOOR, factor=FACTOR)
    back_to_back = [flags[SPAN - 1 - k * W] for k in range(SPAN // W)]
    if any(back_to_back):
        assert last_surging(flags) is not None


@given(position=st.integers(min_value=0, max_value=SPAN + W - 3), first=st.integers(min_value=1, max_value=FLOOR),
       background=st.lists(st.integers(min_value=0, max_value=1), min_size=7, max_size=7))
def test_a_burst_split_over_two_minutes_anywhere_is_seen(position, first, background):
    """FLOOR + 1 appeals split over two neighbouring minutes surge in the windows holding both,
    wherever the split falls (a window boundary included), and nowhere else."""
    today = [0] * (SPAN + W - 1)
    today[position], today[position + 1] = first, FLOOR + 1 - first
    history = [[b] + [0] * (SPAN + W - 2) for b in background]
    flags = surging_minutes(today=today, history=history, window=W, floor=FLOOR, factor=FACTOR)
    # Window i covers buckets i .. i + W - 1.
    holding_both = [i for i in range(SPAN) if i <= position and position + 1 <= i + W - 1]
    assert [i for i, f in enumerate(flags) if f] == holding_both
    assert last_surging(flags) == (max(holding_both) if holding_both else None)


# --- the beat task, minute by minute ------------------------------------------------------------


def _scan_task():
    """The task beat runs every minute, looked up the way beat finds it (by its registered name)."""
    entry = beat_schedule()["surge-scan"]
    return celery_app.tasks[entry["task"]]


def run_minutes(traffic, enterprise, *, start, end, arrivals):
    """Every minute from start to end: the appeals of that minute arrive (counted like live
    submissions), then beat's scan runs, at the clock's second 50. Returns {minute: report}."""
    task = _scan_task()
    results = {}
    t = start
    while t <= end:
        n = arrivals.get(t, 0)
        if n:
            with time_machine.travel(t + timedelta(seconds=10), tick=False):
                traffic.submit([t + timedelta(seconds=10)] * n, enterprise=enterprise)
        with time_machine.travel(t + timedelta(seconds=50), tick=False):
            results[t] = task.apply().get()
        t += timedelta(minutes=1)
    return results


def _alert_states():
    return list(SurgeAlert.objects.filter(dimension="all").order_by("opened_at").values_list("state", "opened_at", "resolved_at"))


@pytest.mark.django_db
def test_burst_straddling_a_window_boundary_opens_and_closes_30_minutes_after_its_last_surging_minute(traffic, managers):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent, today=False)  # usual level 1: the floor (10) decides
    m = lambda k: NOW + timedelta(minutes=k)  # noqa: E731 - minutes around 10:30
    # 6 appeals at 10:29 and 6 at 10:31: no window of 10:21-10:30 or 10:31-10:40 holds more than 6.
    run_minutes(traffic, ent, start=m(-5), end=m(70), arrivals={m(-1): 6, m(1): 6})
    (state, opened_at, resolved_at), = _alert_states()
    # Opened when the window ending 10:31 held both halves (12 > 10).
    assert opened_at == m(1) + timedelta(seconds=50)
    # Every window ending 10:31 ... 10:38 holds both halves: 10:38 is the last surging minute,
    # so the alert closes at 11:08 (README: 30 minutes after the last surging minute), not at
    # 11:01 when the three back-to-back windows ending 11:01, 10:51 and 10:41 all look quiet.
    assert state == SurgeState.RESOLVED
    assert resolved_at == m(8 + 30) + timedelta(seconds=50)
    assert SurgeAlert.objects.get(dimension="all").resolution == SurgeResolution.AUTO


@pytest.mark.django_db
def test_wave_pulsing_every_20_minutes_keeps_one_alert_and_mails_each_manager_once(traffic, managers, settings):
    settings.LANGUAGE_CODE = "en"
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent, today=False)
    m = lambda k: NOW + timedelta(minutes=k)  # noqa: E731
    # A pulse every 20 minutes for two hours: 6 appeals, then 6 more three minutes later.
    pulses = [m(-1 + 20 * k) for k in range(6)]  # 10:29, 10:49, ... 12:09
    arrivals = {}
    for p in pulses:
        arrivals[p] = 6
        arrivals[p + timedelta(minutes=3)] = 6
    last_pulse_end = pulses[-1] + timedelta(minutes=3)
    reports = run_minutes(traffic, ent, start=m(-5), end=last_pulse_end + timedelta(minutes=10), arrivals=arrivals)

    alerts = SurgeAlert.objects.filter(dimension="all")
    assert alerts.count() == 1, _alert_states()
    alert = alerts.get()
    assert alert.state == SurgeState.OPEN  # the wave is still running
    assert not any(r["resolved"] for r in reports.values())
    # One alert per slice (all, platform, kind, enterprise) for the whole wave, so each
    # manager's mail about the wave went out once per slice, never a second time.
    assert SurgeAlert.objects.count() == 4
    emails = Message.objects.filter(topic=SurgeAlert.TOPIC, channel="email")
    for manager in managers:
        assert emails.filter(recipient=manager.email).count() == 4
    builders.deliver_queued()
    about_all = [e for e in mail.outbox if "All appeals" in e.body]
    assert sorted(e.to[0] for e in about_all) == sorted(man.email for man in managers)

    # Once the wave stops: 30 minutes after the last surging minute (12:18, the last window to
    # hold both halves of the 12:09 pulse), and not a minute before.
    last_surging = pulses[-1] + timedelta(minutes=9)
    after = run_minutes(traffic, ent, start=last_pulse_end + timedelta(minutes=11), end=last_surging + timedelta(minutes=31),
                        arrivals={})
    closed_at = [t for t, r in after.items() if alert.pk in r["resolved"]]
    assert closed_at == [last_surging + timedelta(minutes=30)]
    assert django_settings.SURGE["QUIET_WINDOWS"] * django_settings.SURGE["WINDOW_MINUTES"] == 30


@pytest.mark.django_db
def test_redis_and_database_agree_on_the_last_surging_minute(traffic, clear_surge_keys):
    ent = factories.EnterpriseFactory()
    traffic.daily(1, enterprise=ent, today=False)
    traffic.submit([NOW - timedelta(minutes=1)] * 6 + [NOW + timedelta(minutes=1)] * 6, enterprise=ent)
    policy = surge.surge_policy()
    for k in (5, 20, 38, 39):
        now = NOW + timedelta(minutes=k, seconds=50)
        answers = {
            counts.name: surge.surge_last_surging_minute(slice_=ALL, now=now, policy=policy, counts=counts)
            for counts in (surge.RedisCounts(), surge.DatabaseCounts())
        }
        assert answers["redis"] == answers["database"]
        expected = None if k >= 38 else surge.minute_of(NOW + timedelta(minutes=min(k, 8)))
        assert answers["database"] == expected, k
    # Redis lost its counters mid-wave: rebuilt from the database, same answer.
    clear_surge_keys()
    assert surge.surge_last_surging_minute(slice_=ALL, now=NOW + timedelta(minutes=20), policy=policy,
                                           counts=surge.RedisCounts()) == surge.minute_of(NOW + timedelta(minutes=8))
