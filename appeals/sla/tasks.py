"""SLA entry points: the scan for warnings/breaches (sent through the outbox), automatic resolution."""

import logging

from celery import shared_task

from appeals.core.models import Appeal
from appeals.sla import auto_resolution, calendar_years, reports
from appeals.sla import notices as sla_notifications
from appeals.sla.models import SlaNotification

logger = logging.getLogger(__name__)


@shared_task(name="appeals.tasks.sla_scan")
def sla_scan() -> dict:
    """Every minute: queue the SLA warnings (APPEALS_SLA["WARN_AT_FRACTION"]) and the breach notices that are due (once each)."""
    return sla_notifications.sla_scan()


@shared_task(name="appeals.tasks.send_sla_notification")
def send_sla_notification(notification_id: int) -> int:
    """Kept for tasks the previous version queued: hands the notice to the outbox (idempotent).
    The scan no longer queues this task; the outbox delivers the notice's messages."""
    notice = SlaNotification.objects.filter(pk=notification_id).first()
    return len(sla_notifications.sla_notice_queue_messages(notice=notice)) if notice else 0


@shared_task(name="appeals.tasks.sla_auto_resolve")
def sla_auto_resolve(limit: int = 500) -> int:
    """Every five minutes: apply the automatic-resolution rule to eligible minor cases."""
    done = 0
    for appeal_id in auto_resolution.eligible_for_auto_resolution().values_list("pk", flat=True)[:limit]:
        auto_resolve_one(appeal_id)
        done += 1
    return done


@shared_task(name="appeals.tasks.auto_resolve_appeal")
def auto_resolve_appeal(appeal_id: int) -> None:
    auto_resolve_one(appeal_id)


def auto_resolve_one(appeal_id: int) -> None:
    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is not None:
        auto_resolution.appeal_auto_resolve(appeal=appeal)


@shared_task(name="appeals.tasks.refresh_report_snapshots")
def refresh_report_snapshots() -> list[str]:
    """Every 15 minutes: recompute the all-tenant reports for the standard periods."""
    return reports.report_snapshots_refresh()


@shared_task(name="appeals.tasks.calendar_year_check")
def calendar_year_check() -> int:
    """Hourly (beat): in December, mail the managers once if next year's calendar is not confirmed."""
    return len(calendar_years.calendar_next_year_reminder())
