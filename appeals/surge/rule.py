"""The surge rule, pure: a window surges when its count exceeds both the floor and FACTOR x the
usual level (the median of the same window on previous days). See docs/surge.md."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    surging: bool
    count: int
    usual: float
    threshold: float
    ratio: float | None  # count / usual; None when there was no usual traffic at all


def surge_rule(*, count: int, history: Sequence[int], floor: int, factor: float) -> Verdict:
    """A window surges when its count exceeds both the floor and factor x the usual level.

    The usual level is the median of the same window on previous days: a median, so that
    one earlier ban wave in the history does not raise the bar for a whole week.
    """
    usual = float(statistics.median(history)) if history else 0.0
    threshold = max(float(floor), factor * usual)
    return Verdict(
        surging=count > threshold,
        count=count,
        usual=usual,
        threshold=threshold,
        ratio=round(count / usual, 2) if usual else None,
    )
