"""The surge policy: the managers' settings row, or settings.SURGE; memoised per process."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from appeals.surge.models import (
    SurgeSettings,
)

logger = logging.getLogger(__name__)


# --- the policy ----------------------------------------------------------------------------


MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class SurgePolicy:
    window_minutes: int
    floor: int
    factor: float
    history_days: int
    quiet_windows: int
    hotline: str

    @property
    def counter_ttl_seconds(self) -> int:
        # Long enough for the oldest bucket any question reaches back to: the history of
        # the oldest quiet window, plus an hour of slack.
        return (self.history_days * MINUTES_PER_DAY + (self.quiet_windows + 1) * self.window_minutes) * 60 + 3600


POLICY_FIELDS = ("window_minutes", "floor", "factor", "history_days", "quiet_windows", "hotline")


def default_policy() -> SurgePolicy:
    s = settings.SURGE
    return SurgePolicy(
        window_minutes=s["WINDOW_MINUTES"],
        floor=s["FLOOR"],
        factor=float(s["FACTOR"]),
        history_days=s["HISTORY_DAYS"],
        quiet_windows=s["QUIET_WINDOWS"],
        hotline=s["HOTLINE"],
    )


_POLICY_TTL_SECONDS = 5.0
_policy_memo: dict = {}


def surge_policy() -> SurgePolicy:
    """The managers' settings row if there is one, else settings.SURGE.

    Memoised per process for a few seconds: the per-submission check reads it on every
    submission, and a manager's change may take that long to reach other processes.
    """
    memo = _policy_memo.get("policy")
    if memo and memo[0] > time.monotonic():
        return memo[1]
    row = SurgeSettings.objects.filter(pk=1).first()
    policy = default_policy() if row is None else SurgePolicy(**{f: getattr(row, f) for f in POLICY_FIELDS})
    _policy_memo["policy"] = (time.monotonic() + _POLICY_TTL_SECONDS, policy)
    return policy


def forget_policy(**_kwargs) -> None:
    _policy_memo.clear()
