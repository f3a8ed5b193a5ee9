"""The rule itself: a pure function of the window's count and the history."""

from datetime import timedelta

import pytest

from appeals.surge.services import SurgePolicy, minute_of, surge_rule, window_ends
from tests.surge.conftest import NOW


def test_worked_example_from_docs():
    # docs/surge.md: 10-minute window, floor 20, factor 3, the same 10 minutes on the previous 7 days.
    history = [6, 9, 7, 31, 8, 5, 7]  # day -4 had a ban wave of its own
    verdict = surge_rule(count=40, history=history, floor=20, factor=3.0)
    assert verdict.usual == 7  # median: the earlier wave (31) does not raise the bar
    assert verdict.threshold == 21
    assert verdict.surging is True
    assert verdict.ratio == pytest.approx(5.71, abs=0.01)


def test_at_or_under_the_floor_never_surges_even_without_history():
    assert surge_rule(count=20, history=[0] * 7, floor=20, factor=3.0).surging is False
    assert surge_rule(count=21, history=[0] * 7, floor=20, factor=3.0).surging is True
    assert surge_rule(count=21, history=[0] * 7, floor=20, factor=3.0).ratio is None


def test_must_exceed_factor_times_usual_not_just_reach_it():
    assert surge_rule(count=30, history=[10] * 7, floor=5, factor=3.0).surging is False
    assert surge_rule(count=31, history=[10] * 7, floor=5, factor=3.0).surging is True


def test_window_ends_are_the_same_minute_on_previous_days():
    policy = SurgePolicy(window_minutes=10, floor=1, factor=2, history_days=3, quiet_windows=2, hotline="x")
    ends = window_ends(now=NOW, policy=policy)
    assert ends == [minute_of(NOW - timedelta(days=d)) for d in range(4)]
    assert window_ends(now=NOW, policy=policy, windows_back=2)[0] == minute_of(NOW) - 20
