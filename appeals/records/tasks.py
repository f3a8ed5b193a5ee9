"""Records' periodic tasks. A backup or a drill can outlast the broker's visibility timeout, so
these are acknowledged on receipt (never redelivered to a second worker mid-run); a run a dead
worker lost stays "running" in RecordsRun and the next day's run takes over."""

import logging

from celery import shared_task
from django.conf import settings

from appeals.records import retention, runs

logger = logging.getLogger(__name__)

_LONG = {"acks_late": False, "time_limit": 6 * 3600, "soft_time_limit": 6 * 3600 - 60}


@shared_task(name="appeals.tasks.records_backup", **_LONG)
def records_backup() -> dict:
    """Daily: one snapshot to every BACKUP_DESTINATIONS entry (skipped when none is set)."""
    if not settings.BACKUP["DESTINATIONS"]:
        logger.warning("backup skipped: BACKUP_DESTINATIONS is empty")
        return {"skipped": True}
    run = runs.records_backup_run()
    return {"run": run.pk, "ok": run.ok, "snapshot": run.snapshot}


@shared_task(name="appeals.tasks.records_restore_drill", **_LONG)
def records_restore_drill() -> dict:
    """Monthly: restore the newest snapshot into a scratch database and verify it."""
    run = runs.records_restore_drill()
    return {"run": run.pk, "ok": run.ok, "snapshot": run.snapshot}


@shared_task(name="appeals.tasks.records_retention")
def records_retention() -> int:
    """Daily: erase or mask the personal data of closed cases past the retention."""
    return retention.retention_sweep()


@shared_task(name="appeals.tasks.records_purge_sessions")
def records_purge_sessions() -> dict:
    """Daily: expired sessions and API tokens."""
    return retention.purge_sessions_and_tokens()
