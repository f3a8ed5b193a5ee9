"""Template helpers for SLA clocks: {% sla_clock appeal as clock %} and {% sla_overview as ov %}."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.sla.calendar_years import year_is_confirmed
from appeals.sla.models import AppealSla
from appeals.sla.selectors import warn_percent
from appeals.sla.services import remaining_seconds

register = template.Library()


def _duration(seconds: float) -> str:
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    return _("%(h)sh %(m)sm") % {"h": hours, "m": minutes}


@register.simple_tag
def sla_clock(appeal) -> dict:
    """The clock of one case (uses appeal.sla: select_related("sla") in the queue selectors)."""
    try:
        sla = appeal.sla
    except AppealSla.DoesNotExist:
        return {"status": "none"}
    if sla is None or sla.started_at is None:
        return {"status": "none"}
    if sla.closed_at:
        return {"status": "closed", "met": sla.met, "due_at": sla.due_at}
    left = remaining_seconds(sla)
    if sla.is_paused:
        return {"status": "paused", "left": _duration(left), "paused_at": sla.paused_at, "unit": sla.unit}
    now = timezone.now()
    status = "breached" if left <= 0 else ("warning" if sla.warn_at and sla.warn_at <= now else "running")
    return {"status": status, "due_at": sla.due_at, "left": _duration(left), "left_seconds": left,
            # Computed on Monday to Friday through a year with no confirmed holiday calendar.
            "calendar_unconfirmed": sla.calendar_unconfirmed,
            "due_year": timezone.localtime(sla.due_at).year if sla.due_at else None}


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
