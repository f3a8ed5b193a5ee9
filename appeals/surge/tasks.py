"""Surge tasks: the every-minute scan (the managers' messages go through the outbox)."""

import logging

from celery import shared_task

from appeals.surge import services as surge_services
from appeals.surge.models import SurgeAlert

logger = logging.getLogger(__name__)


@shared_task(name="appeals.tasks.surge_scan", ignore_result=True, expires=55)
def surge_scan() -> dict:
    """Every minute (beat): open alerts the per-submission check missed, auto-resolve quiet ones."""
    report = surge_services.surge_scan()
    if report.opened or report.resolved:
        logger.info("surge scan: %d slices checked, opened %s, resolved %s", report.checked, report.opened, report.resolved)
    return {"checked": report.checked, "opened": [a.pk for a in report.opened], "resolved": [a.pk for a in report.resolved]}


@shared_task(name="appeals.tasks.surge_notify", ignore_result=True)
def surge_notify(alert_id: int) -> int:
    """Kept for tasks the previous version queued: queue the managers' messages in the outbox
    (idempotent per manager and channel). Opening an alert now writes them in its own transaction."""
    alert = SurgeAlert.objects.filter(pk=alert_id).first()
    return len(surge_services.surge_notify_managers(alert=alert)) if alert else 0
