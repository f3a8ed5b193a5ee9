"""One SLA clock, read one way everywhere: the case page, the lists, the reports and the API.

`clock_of(sla)` says where a case stands: its status, its due time and the wall-clock time
left until then. While the clock is paused (waiting for the applicant) the due time is the one
the case would have if it resumed now: the unspent budget laid onto the calendar from this
moment (working days skip weekends and holidays). So a severe case with seven working days
left shows the same "8 d 23 h left" in review, while paused and after it resumes, instead of
the working-time budget (6 d 23 h) while paused and the wall-clock distance otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.sla.models import AppealSla
from appeals.sla.services import advance, budget_seconds, spent_seconds


@dataclass(frozen=True)
class Clock:
    status: str  # none | running | warning | breached | paused | closed
    due_at: datetime | None = None
    remaining_seconds: float | None = None
    met: bool | None = None
    unit: str = ""
    # The due time was laid on Monday to Friday through a year with no confirmed calendar.
    provisional: bool = False

    @property
    def hours_left(self) -> float | None:
        return None if self.remaining_seconds is None else round(self.remaining_seconds / 3600.0, 1)


def clock_of(sla: AppealSla | None, now: datetime | None = None) -> Clock:
    if sla is None or sla.started_at is None or not sla.unit:
        return Clock("none")
    if sla.closed_at:
        return Clock("closed", due_at=sla.due_at, met=sla.met, unit=sla.unit)
    now = now or timezone.now()
    if sla.running_since is None:
        left_budget = max(0, budget_seconds(sla.unit, sla.amount) - spent_seconds(sla, sla.unit))
        due = advance(sla.unit, now, left_budget)
        return Clock("paused", due_at=due, remaining_seconds=(due - now).total_seconds(), unit=sla.unit,
                     provisional=sla.calendar_unconfirmed)
    due = sla.due_at or sla.running_since
    remaining = (due - now).total_seconds()
    if remaining <= 0:
        status = "breached"
    elif sla.warn_at and sla.warn_at <= now:
        status = "warning"
    else:
        status = "running"
    return Clock(status, due_at=due, remaining_seconds=remaining, unit=sla.unit, provisional=sla.calendar_unconfirmed)


def duration_text(seconds: float) -> str:
    """"3 d 4 h" / "23 h 55 m" in the active language (the sign is the caller's to say)."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    return _("%(h)sh %(m)sm") % {"h": hours, "m": minutes}
