"""Reads for surge alerts: who may see them, and the volume around each alert."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from django.db.models import Count, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

from appeals.core.models import Appeal, Enterprise
from appeals.notifications.models import Message
from appeals.shared.exceptions import NotFound
from appeals.surge.models import SurgeAlert, SurgeDimension
from appeals.surge.services import minute_of, minute_start, slice_label, slice_q


def surge_alerts_for(user) -> QuerySet[SurgeAlert]:
    """Desk staff see every alert; applicants none (an alert may name another enterprise)."""
    if not user or not user.is_authenticated or not user.is_active or not user.is_desk:
        return SurgeAlert.objects.none()
    return SurgeAlert.objects.select_related("acknowledged_by", "resolved_by")


def surge_alert_messages(alert: SurgeAlert) -> QuerySet[Message]:
    """The managers' messages about one alert (outbox rows), in the order they were queued."""
    return Message.objects.filter(topic=SurgeAlert.TOPIC, topic_id=alert.pk).order_by("created_at", "id")


def surge_alert_get(*, user, pk) -> SurgeAlert:
    try:
        return surge_alerts_for(user).get(pk=pk)
    except (SurgeAlert.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def with_slice_labels(alerts):
    """Label a page of alerts with one query for the enterprises they name (not one per row)."""
    alerts = list(alerts)
    ids = {a.value for a in alerts if a.dimension == SurgeDimension.ENTERPRISE and a.value.isdigit()}
    names = dict(Enterprise.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for alert in alerts:
        if alert.dimension == SurgeDimension.ENTERPRISE and alert.value.isdigit() and int(alert.value) in names:
            alert._slice_label = f"{SurgeDimension.ENTERPRISE.label}: {names[int(alert.value)]}"
        else:
            alert._slice_label = slice_label(alert.dimension, alert.value)
    return alerts


def surge_history(*, start_at: datetime, end_at: datetime) -> list[dict]:
    """The alerts opened in [start_at, end_at), oldest first, for the manager report (registered
    with the core as its alert history). Two queries: the alerts, the enterprise names."""
    alerts = with_slice_labels(
        SurgeAlert.objects.filter(opened_at__gte=start_at, opened_at__lt=end_at).order_by("opened_at", "id")
    )
    return [
        {"id": a.pk, "opened_at": a.opened_at, "slice": a.slice_label, "window_minutes": a.window_minutes,
         "count": a.count, "usual": round(a.usual, 1), "state": a.state, "resolved_at": a.resolved_at}
        for a in alerts
    ]


@dataclass(frozen=True)
class VolumeSeries:
    start: datetime
    end: datetime
    bucket_minutes: int
    points: list  # [(bucket start, count)]
    usual_per_bucket: float
    threshold_per_bucket: float


def surge_volume(*, alert: SurgeAlert, now: datetime | None = None, max_points: int = 120) -> VolumeSeries:
    """Submissions in the alert's slice from well before it opened to a while after it closed,
    in at most `max_points` buckets. One grouped query over a bounded time range."""
    now = now or timezone.now()
    window = alert.window_minutes
    start = alert.window_start - timedelta(minutes=max(60, 6 * window))
    end = (alert.resolved_at or now) + timedelta(minutes=max(30, 2 * window))
    end = max(min(end, now), alert.opened_at + timedelta(minutes=window))
    first = minute_of(start)
    total = max(1, minute_of(end) - first + 1)
    bucket = max(1, ceil(total / max_points))
    counts = [0] * ceil(total / bucket)
    rows = (
        Appeal.objects.filter(slice_q((alert.dimension, alert.value)), submitted_at__gte=minute_start(first), submitted_at__lt=end)
        .annotate(minute=Trunc("submitted_at", "minute", tzinfo=UTC))
        .values("minute")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        index = (minute_of(row["minute"]) - first) // bucket
        if 0 <= index < len(counts):
            counts[index] += row["n"]
    points = [(minute_start(first + i * bucket), n) for i, n in enumerate(counts)]
    threshold = max(float(alert.floor), alert.factor * alert.usual)
    return VolumeSeries(
        start=minute_start(first),
        end=end,
        bucket_minutes=bucket,
        points=points,
        usual_per_bucket=alert.usual / window * bucket,
        threshold_per_bucket=threshold / window * bucket,
    )
