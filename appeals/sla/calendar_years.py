"""Which years' working-day calendars are confirmed, loading an official schedule, and the
December reminder when next year's is not in yet.

A year is confirmed when its official schedule (the State Council's notice: public holidays
and the weekend days made working days) has been loaded with `manage.py calendar_load FILE`.
Until then the calendar for that year is the Monday-to-Friday rule plus whatever estimate the
`holidays` library has, and every due time computed through it is flagged (AppealSla.
calendar_unconfirmed) on the case, in the reports and on the manager's overview.

File formats (one year or several; every year present in the file becomes confirmed):
- CSV with a header `date,kind,name`: `2027-02-06,holiday,春节` / `2027-02-20,workday,春节调休上班`.
- ICS (iCalendar): one all-day VEVENT per holiday or holiday block (DTSTART;VALUE=DATE, DTEND
  exclusive); an event is a make-up working day when its CATEGORIES holds WORKDAY or its
  SUMMARY says 上班 / 补班 / workday.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.core.models import User
from appeals.notifications.models import Channel
from appeals.notifications.outbox import message_queue
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.sla.models import CalendarYear, WorkCalendarDay
from appeals.sla.services import sla_reschedule_open_clocks

HOLIDAY, WORKDAY = "holiday", "workday"
REMINDER_TOPIC = "calendar_year"
_WORKDAY_WORDS = ("上班", "补班", "workday", "working day")


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    kind: str  # HOLIDAY or WORKDAY
    name: str = ""


# --- parsing ------------------------------------------------------------------------------------


def parse_schedule_csv(text: str) -> list[ScheduleDay]:
    """Rows `date,kind,name` (header required). Errors name the line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or {"date", "kind"} - {f.strip().lower() for f in reader.fieldnames}:
        raise ValidationFailed(fields={"file": [_("The CSV needs a header with the columns date, kind, name.")]})
    days, errors = [], []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            day = date.fromisoformat(row.get("date", ""))
        except ValueError:
            errors.append(_("Line %(line)s: %(value)r is not a date (YYYY-MM-DD).") % {"line": line, "value": row.get("date", "")})
            continue
        kind = row.get("kind", "").lower()
        if kind not in (HOLIDAY, WORKDAY):
            errors.append(_("Line %(line)s: kind must be holiday or workday, not %(value)r.") % {"line": line, "value": kind})
            continue
        days.append(ScheduleDay(day, kind, row.get("name", "")[:120]))
    if errors:
        raise ValidationFailed(fields={"file": errors})
    return days


def _ics_lines(text: str) -> list[str]:
    """Unfold RFC 5545 content lines (a line starting with a space continues the previous one)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw.rstrip())
    return lines


def _ics_date(value: str) -> date:
    return datetime.strptime(value.strip()[:8], "%Y%m%d").date()


def parse_schedule_ics(text: str) -> list[ScheduleDay]:
    """All-day VEVENTs: each day from DTSTART up to (not including) DTEND."""
    days, errors, event = [], [], None
    for line in _ics_lines(text.lstrip("\ufeff")):
        name, _sep, value = line.partition(":")
        key = name.split(";", 1)[0].upper()
        if key == "BEGIN" and value.upper() == "VEVENT":
            event = {}
        elif key == "END" and value.upper() == "VEVENT" and event is not None:
            try:
                start = _ics_date(event["DTSTART"])
                end = _ics_date(event["DTEND"]) if "DTEND" in event else start + timedelta(days=1)
            except (KeyError, ValueError):
                errors.append(_("Event %(summary)r has no valid all-day DTSTART.") % {"summary": event.get("SUMMARY", "")})
                event = None
                continue
            summary = event.get("SUMMARY", "").replace("\\,", ",")
            categories = event.get("CATEGORIES", "").upper()
            workday = "WORKDAY" in categories or any(w in summary.lower() for w in _WORKDAY_WORDS)
            day = start
            while day < max(end, start + timedelta(days=1)):
                days.append(ScheduleDay(day, WORKDAY if workday else HOLIDAY, summary[:120]))
                day += timedelta(days=1)
            event = None
        elif event is not None and key in ("DTSTART", "DTEND", "SUMMARY", "CATEGORIES"):
            event[key] = value
    if errors:
        raise ValidationFailed(fields={"file": errors})
    return days


def parse_schedule(name: str, content: bytes) -> list[ScheduleDay]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(fields={"file": [_("The file must be UTF-8 text.")]}) from None
    if name.lower().endswith(".ics") or text.lstrip("\ufeff").startswith("BEGIN:VCALENDAR"):
        return parse_schedule_ics(text)
    return parse_schedule_csv(text)


# --- loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    years: tuple[int, ...]
    holidays: int
    workdays: int
    rescheduled: int


@entry_point
def work_calendar_load(*, days: list[ScheduleDay], source: str, by=None) -> LoadResult:
    """Replace the calendar of every year in `days` by the official schedule and mark those
    years confirmed. Days of those years not in the file follow the Monday-to-Friday rule
    (the library's estimates and earlier loads are dropped; a manager's later correction
    still goes through work_calendar_set_day). Open clocks due from the first loaded year on
    are recomputed. Audited."""
    if not days:
        raise ValidationFailed(fields={"file": [_("The schedule lists no day.")]})
    seen: dict[date, ScheduleDay] = {}
    for d in days:
        if d.day in seen and seen[d.day].kind != d.kind:
            raise ValidationFailed(fields={"file": [_("%(day)s is listed both as a holiday and as a working day.") % {"day": d.day}]})
        seen[d.day] = d
    years = tuple(sorted({d.year for d in seen}))
    source = (source or "").strip()[:200] or _("official schedule")
    WorkCalendarDay.objects.filter(date__year__in=years).delete()
    WorkCalendarDay.objects.bulk_create([
        WorkCalendarDay(date=d.day, is_working=d.kind == WORKDAY, note=d.name, source=WorkCalendarDay.Source.OFFICIAL)
        for d in sorted(seen.values(), key=lambda d: d.day)
    ])
    now = timezone.now()
    for year in years:
        CalendarYear.objects.update_or_create(
            year=year, defaults={"confirmed": True, "source": source, "confirmed_at": now, "confirmed_by": by}
        )
    since = timezone.make_aware(datetime(years[0], 1, 1))
    rescheduled = sla_reschedule_open_clocks(since=since)
    result = LoadResult(
        years=years,
        holidays=sum(1 for d in seen.values() if d.kind == HOLIDAY),
        workdays=sum(1 for d in seen.values() if d.kind == WORKDAY),
        rescheduled=rescheduled,
    )
    audit_record(actor=by, action="calendar.load", target_type="appeals.calendaryear", target_id=",".join(map(str, years)),
                 after={"source": source, "holidays": result.holidays, "workdays": result.workdays,
                        "rescheduled_clocks": rescheduled})
    return result


# --- reading: the manager's calendar page ----------------------------------------------------------


def calendar_years_overview(*, today: date | None = None) -> list[dict]:
    """Every year the desk knows of (rows, seeded days, this year and next) with whether its
    calendar is confirmed and how many holidays / make-up working days it has."""
    today = today or timezone.localdate()
    rows = {row.year: row for row in CalendarYear.objects.select_related("confirmed_by")}
    counts = {
        row["date__year"]: row
        for row in WorkCalendarDay.objects.values("date__year").annotate(
            holidays=Count("pk", filter=Q(is_working=False)), workdays=Count("pk", filter=Q(is_working=True))
        )
    }
    years = sorted(set(rows) | set(counts) | {today.year, today.year + 1})
    out = []
    for year in years:
        row = rows.get(year)
        out.append({
            "year": year,
            "confirmed": bool(row and row.confirmed),
            "source": row.source if row else "",
            "confirmed_at": row.confirmed_at if row else None,
            "confirmed_by": row.confirmed_by.get_username() if row and row.confirmed_by else "",
            "holidays": counts.get(year, {}).get("holidays", 0),
            "workdays": counts.get(year, {}).get("workdays", 0),
            "current": year == today.year,
        })
    return out


def year_is_confirmed(year: int) -> bool:
    return CalendarYear.objects.filter(year=year, confirmed=True).exists()


# --- the December reminder ------------------------------------------------------------------------


@entry_point
def calendar_next_year_reminder(*, now: datetime | None = None) -> list:
    """In December, when next year's calendar is not confirmed, mail every manager once (the
    outbox; keyed per year and manager, and the year's row remembers it was sent)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    if today.month != 12:
        return []
    year = today.year + 1
    CalendarYear.objects.get_or_create(year=year)
    row = CalendarYear.objects.select_for_update().get(year=year)
    if row.confirmed or row.reminded_at is not None:
        return []
    language = settings.LANGUAGE_CODE
    params = {"year": year, "url": f"{settings.SITE_URL.rstrip('/')}/manager/calendar/"}
    queued = []
    for manager in User.objects.filter(is_active=True, is_manager=True).exclude(email="").order_by("pk"):
        try:
            queued.append(message_queue(
                channel=Channel.EMAIL, recipient=manager.email, template="calendar_unconfirmed", params=params,
                idempotency_key=f"calendar:{year}:email:{manager.pk}", language=language, topic=REMINDER_TOPIC, topic_id=year,
            ))
        except ValidationFailed:  # one unusable address must not stop the others
            continue
    row.reminded_at = now
    row.save(update_fields=["reminded_at"])
    audit_record(actor=None, action="calendar.remind", target_type="appeals.calendaryear", target_id=str(year),
                 after={"managers": len(queued)})
    return queued
