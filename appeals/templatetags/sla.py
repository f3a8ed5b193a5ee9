"""Template helpers for SLA clocks: {% sla_clock appeal as clock %} and {% sla_overview as ov %}."""

from django import template
from django.utils import timezone

from appeals.sla.calendar_years import year_is_confirmed
from appeals.sla.clock import clock_of, duration_text
from appeals.sla.models import AppealSla
from appeals.sla.selectors import warn_percent

register = template.Library()


@register.simple_tag
def sla_clock(appeal) -> dict:
    """The clock of one case (uses appeal.sla: select_related("sla") in the queue selectors),
    read through appeals.sla.clock like the API and the reports."""
    try:
        sla = appeal.sla
    except AppealSla.DoesNotExist:
        return {"status": "none"}
    clock = clock_of(sla)
    if clock.status in ("none", "closed"):
        return {"status": clock.status, "met": clock.met, "due_at": clock.due_at}
    return {"status": clock.status, "due_at": clock.due_at, "left": duration_text(clock.remaining_seconds),
            "left_seconds": clock.remaining_seconds, "unit": clock.unit,
            # Computed on Monday to Friday through a year with no confirmed holiday calendar.
            "calendar_unconfirmed": sla.calendar_unconfirmed,
            "due_year": timezone.localtime(clock.due_at).year if clock.due_at else None}


@register.simple_tag
def sla_overview() -> dict:
    """Counts for the manager dashboard: open cases breached and about to breach (one query)."""
    from django.db.models import Count, Q

    now = timezone.now()
    counts = AppealSla.objects.filter(closed_at__isnull=True, running_since__isnull=False).aggregate(
        breached=Count("pk", filter=Q(due_at__lte=now)),
        at_risk=Count("pk", filter=Q(warn_at__lte=now, due_at__gt=now)),
        calendar_unconfirmed=Count("pk", filter=Q(calendar_unconfirmed=True)),
    )
    next_year = timezone.localdate().year + 1
    return {**counts, "warn_pct": warn_percent(), "next_year": next_year, "next_year_confirmed": year_is_confirmed(next_year)}
