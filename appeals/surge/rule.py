"""The surge rule, pure: a window surges when its count exceeds both the floor and FACTOR x the
usual level (the median of the same window on previous days); an alert is over when no minute of
the quiet span surged (`surging_minutes`, on a window sliding minute by minute). See docs/surge.md."""

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


# --- when a surge is over: the rule on a sliding window -----------------------------------------


def sliding_sums(buckets: Sequence[int], window: int) -> list[int]:
    """The sum of every run of `window` consecutive one-minute buckets: element i covers
    buckets[i : i + window], i.e. the window ending at bucket i + window - 1."""
    if window < 1:
        raise ValueError("window must be at least one minute")
    sums, running = [], 0
    for i, n in enumerate(buckets):
        running += n
        if i >= window:
            running -= buckets[i - window]
        if i >= window - 1:
            sums.append(running)
    return sums


def surging_minutes(*, today: Sequence[int], history: Sequence[Sequence[int]], window: int, floor: int, factor: float) -> list[bool]:
    """For each minute of a span, does the slice surge at that minute (the window ending there)?

    `today` holds the one-minute buckets from `window - 1` minutes before the span's first
    minute to its last; `history[d]` the same minutes d + 1 days earlier. Every minute is judged
    by `surge_rule` with the same window on the previous days: the README's rule, applied to a
    window that slides by one minute instead of to back-to-back windows that a burst can straddle.
    """
    counts = sliding_sums(today, window)
    past = [sliding_sums(day, window) for day in history]
    return [
        count > floor and surge_rule(count=count, history=[day[i] for day in past], floor=floor, factor=factor).surging
        for i, count in enumerate(counts)
    ]


def last_surging(flags: Sequence[bool]) -> int | None:
    """Index of the last True in `flags`, or None when the whole span is quiet."""
    for i in range(len(flags) - 1, -1, -1):
        if flags[i]:
            return i
    return None
