"""The mainland China working-day calendar and working-time arithmetic.

A day is a working day by the Monday-to-Friday rule unless a WorkCalendarDay row says
otherwise (an official holiday on a weekday, or a weekend day made a working day). The
rows are seeded from the `holidays` library (holidays.China and its `weekend_workdays`),
replaced by an official schedule (`manage.py calendar_load`, appeals/sla/calendar_years.py)
and corrected by managers through `work_calendar_set_day`. A year is *confirmed* only when
its official schedule is in (CalendarYear); a walk through any other year is flagged. Both writes are entry points
(one durable transaction, appeals.shared.db); the admin calls `work_calendar_set_day.nested`.

Working time counts whole calendar days: a working day contributes 24 hours, a day off
none. "7 working days" from Tuesday 15:00 therefore ends at 15:00 on the seventh working
day after it; a clock started on a day off starts counting at 00:00 of the next working day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.core.models import Role
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.writes import require
from appeals.sla.models import CalendarYear, WorkCalendarDay

DAY = 86400
# Working-time walks never look further than this (a year of holidays is < 40 days).
_HORIZON_DAYS = 400


class WorkCalendar:
    """The exceptions for a date range and which of its years are confirmed (two queries);
    answers is_working(date) and is_confirmed(year)."""

    def __init__(self, start: date, end: date):
        self.start, self.end = start, end
        self.overrides = dict(
            WorkCalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_working")
        )
        self.confirmed_years = set(
            CalendarYear.objects.filter(year__gte=start.year, year__lte=end.year, confirmed=True).values_list("year", flat=True)
        )

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def is_working(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _calendar_from(moment: datetime, days: int = _HORIZON_DAYS, calendar: WorkCalendar | None = None) -> WorkCalendar:
    first = _local(moment).date()
    if calendar and calendar.start <= first and first + timedelta(days=days) <= calendar.end:
        return calendar
    return WorkCalendar(first, first + timedelta(days=days))


@dataclass(frozen=True)
class WorkingTimeEnd:
    """Where a working-time walk ended, and the years it crossed whose calendar is not
    confirmed (there the walk assumed Monday to Friday: the moment is provisional)."""

    at: datetime
    unconfirmed_years: tuple[int, ...] = ()


def add_working_time(start: datetime, seconds: float, *, calendar: WorkCalendar | None = None) -> WorkingTimeEnd:
    """The moment when `seconds` of working time have passed after `start`, and whether the
    calendar it was computed on was a guess for any of the days walked."""
    cal = _calendar_from(start, calendar=calendar)
    remaining = max(0.0, float(seconds))
    cursor = _local(start)
    day = cursor.date()
    walked: set[int] = set()
    for _i in range(_HORIZON_DAYS):
        walked.add(day.year)
        next_start = _day_start(day + timedelta(days=1))
        if cal.is_working(day):
            available = (next_start - cursor).total_seconds()
            if remaining <= available:
                guessed = tuple(sorted(y for y in walked if not cal.is_confirmed(y)))
                return WorkingTimeEnd(cursor + timedelta(seconds=remaining), guessed)
            remaining -= available
        day += timedelta(days=1)
        cursor = next_start
    raise ValueError("working time runs past the calendar horizon")


def add_working_seconds(start: datetime, seconds: float, *, calendar: WorkCalendar | None = None) -> datetime:
    """The moment when `seconds` of working time have passed after `start`."""
    return add_working_time(start, seconds, calendar=calendar).at


def working_seconds_between(start: datetime, end: datetime, *, calendar: WorkCalendar | None = None) -> float:
    """Working time (seconds) inside [start, end)."""
    if end <= start:
        return 0.0
    span = (_local(end).date() - _local(start).date()).days + 1
    cal = calendar if calendar and calendar.start <= _local(start).date() and _local(end).date() <= calendar.end \
        else WorkCalendar(_local(start).date(), _local(end).date())
    total = 0.0
    day = _local(start).date()
    for _i in range(span):
        lo = max(_day_start(day), start)
        hi = min(_day_start(day + timedelta(days=1)), end)
        if hi > lo and cal.is_working(day):
            total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def is_working_day(day: date) -> bool:
    return WorkCalendar(day, day).is_working(day)


# --- writes -------------------------------------------------------------------------------


def china_calendar_exceptions(years) -> dict[date, tuple[bool, str]]:
    """What the `holidays` library says differs from Monday-to-Friday in these years."""
    cn = holidays.China(years=list(years))
    out: dict[date, tuple[bool, str]] = {}
    for day, name in cn.items():
        out[day] = (False, str(name)[:120])
    for day in cn.weekend_workdays:
        if day.year in set(years):
            out[day] = (True, "Make-up working day (调休上班)")
    return out


@entry_point
def work_calendar_seed(*, years=None, by=None) -> int:
    """Write the library's China calendar for `years`; manual corrections are kept. Idempotent."""
    years = list(years or settings.APPEALS_SLA["CALENDAR_SEED_YEARS"])
    wanted = china_calendar_exceptions(years)
    manual = set(WorkCalendarDay.objects.filter(date__in=wanted, source=WorkCalendarDay.Source.MANUAL).values_list("date", flat=True))
    rows = [
        WorkCalendarDay(date=d, is_working=w, note=n, source=WorkCalendarDay.Source.LIBRARY)
        for d, (w, n) in sorted(wanted.items()) if d not in manual
    ]
    WorkCalendarDay.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["date"], update_fields=["is_working", "note", "source"]
    )
    if by is not None:
        audit_record(actor=by, action="calendar.seed", target_type="appeals.workcalendarday", target_id=",".join(map(str, years)),
                     after={"rows": len(rows)})
    return len(rows)


@entry_point
def work_calendar_set_day(*, by, day: date, is_working: bool, note: str = "") -> WorkCalendarDay:
    """A manager corrects one day (e.g. a local notice the library does not know)."""
    require(by.has_role(Role.MANAGER))
    if not isinstance(day, date):
        raise ValidationFailed(fields={"date": [_("Enter a valid date.")]})
    row = WorkCalendarDay.objects.select_for_update().filter(date=day).first()
    before = {"is_working": row.is_working, "note": row.note} if row else {"is_working": day.weekday() < 5, "note": ""}
    row = row or WorkCalendarDay(date=day)
    row.is_working = bool(is_working)
    row.note = (note or "").strip()[:120]
    row.source = WorkCalendarDay.Source.MANUAL
    row.save()
    audit_record(actor=by, action="calendar.set_day", target_type="appeals.workcalendarday", target_id=str(day),
                 before=before, after={"is_working": row.is_working, "note": row.note})
    return row
