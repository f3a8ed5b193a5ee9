"""Surge tasks: the every-minute scan and the managers' notification."""

import logging

from celery import shared_task

from appeals.surge import services as surge_services

logger = logging.getLogger(__name__)


@shared_task(name="appeals.tasks.surge_scan", ignore_result=True, expires=55)
def surge_scan() -> dict:
    """Every minute (beat): open alerts the per-submission check missed, auto-resolve quiet ones."""
    report = surge_services.surge_scan()
    if report.opened or report.resolved:
        logger.info("surge scan: %d slices checked, opened %s, resolved %s", report.checked, report.opened, report.resolved)
    return {"checked": report.checked, "opened": [a.pk for a in report.opened], "resolved": [a.pk for a in report.resolved]}


@shared_task(
    bind=True,
    name="appeals.tasks.surge_notify",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=6,
    autoretry_for=(surge_services.SurgeDeliveryError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
)
def surge_notify(self, alert_id: int) -> int:
    """Email (and SMS) the managers about one alert; idempotent per recipient and channel."""
    return len(surge_services.surge_notify_managers(alert_id=alert_id))
