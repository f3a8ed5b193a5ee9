"""The scheduled runs: the daily backup and the monthly restore drill, each recorded as a
RecordsRun; a failure mails every manager through the outbox."""

import logging
import shutil
import tempfile

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone

from appeals.core.models import User
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_queue
from appeals.records import backup
from appeals.records.models import RecordsRun, RunKind
from appeals.shared.exceptions import ValidationFailed

logger = logging.getLogger(__name__)

TEMPLATE = "records_run_failed"


def _finish(run: RecordsRun, *, ok: bool, error: str = "", **detail) -> RecordsRun:
    run.finished_at = timezone.now()
    run.ok = ok
    run.error = error[:4000]
    run.detail = {**run.detail, **detail}
    run.save(update_fields=["finished_at", "ok", "error", "detail", "snapshot"])
    if not ok:
        records_notify_managers(run=run)
    return run


def records_backup_run(*, destinations: list[str] | None = None) -> RecordsRun:
    """One snapshot to every configured destination (BACKUP_DESTINATIONS)."""
    destinations = list(destinations if destinations is not None else settings.BACKUP["DESTINATIONS"])
    run = RecordsRun.objects.create(kind=RunKind.BACKUP, started_at=timezone.now(), detail={"destinations": destinations})
    try:
        result = backup.snapshot_create(destinations)
    except Exception as exc:
        logger.exception("backup failed")
        return _finish(run, ok=False, error=f"{exc.__class__.__name__}: {exc}")
    run.snapshot = result.name
    return _finish(run, ok=result.ok, error="\n".join(result.problems[:50]), written=result.written,
                   files=len(result.manifest["files"]), seconds=round(result.seconds, 1), problems=len(result.problems))


def drill_database_name() -> str:
    return settings.BACKUP["DRILL_DATABASE"] or f"{backup._db_settings()['dbname']}_restore_drill"


def records_restore_drill(*, source: str | None = None) -> RecordsRun:
    """Restore the newest snapshot of the first destination (or `source`) into a scratch
    database and a scratch folder, verify it, record the outcome, drop the scratch copies."""
    run = RecordsRun.objects.create(kind=RunKind.RESTORE_DRILL, started_at=timezone.now())
    scratch = drill_database_name()
    media = tempfile.mkdtemp(prefix="restore-drill-", dir=settings.BACKUP["STAGING_DIR"] or None)
    conf = backup._db_settings()
    try:
        if source is None:
            if not settings.BACKUP["DESTINATIONS"]:
                raise backup.RestoreError("no backup destination is configured (BACKUP_DESTINATIONS)")
            found = backup.snapshots_in(settings.BACKUP["DESTINATIONS"][0])
            if not found:
                raise backup.RestoreError(f"no complete snapshot in {settings.BACKUP['DESTINATIONS'][0]}")
            source = found[-1]
        run.snapshot = source
        if scratch == conf["dbname"]:
            raise backup.RestoreError("the drill database must not be the live database")
        with backup._connect(conf, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{scratch}"')
        result = backup.snapshot_restore(source, database=scratch, storage=FileSystemStorage(location=media))
    except Exception as exc:
        logger.exception("restore drill failed")
        return _finish(run, ok=False, error=f"{exc.__class__.__name__}: {exc}", database=scratch)
    finally:
        shutil.rmtree(media, ignore_errors=True)
        try:
            with backup._connect(conf, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        except Exception:
            logger.exception("restore drill: could not drop the scratch database %s", scratch)
    return _finish(run, ok=result.ok, error="\n".join(result.problems[:50]), database=scratch, files=result.files,
                   audit=result.audit, evidence=result.evidence, seconds=round(result.seconds, 1),
                   timings={k: round(v, 1) for k, v in result.timings.items()})


@transaction.atomic
def records_notify_managers(*, run: RecordsRun) -> list[Message]:
    """One email per active manager, keyed `records:<run>:<manager>` (queued once)."""
    params = {
        "kind": run.kind,
        "started": timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M"),
        "snapshot": run.snapshot or "-",
        "error": (run.error or "")[:1500],
    }
    queued = []
    for manager in User.objects.filter(is_active=True, is_manager=True).exclude(email="").order_by("pk"):
        try:
            queued.append(message_queue(
                channel=Channel.EMAIL, recipient=manager.email, template=TEMPLATE, params=params,
                language=settings.LANGUAGE_CODE, idempotency_key=f"records:{run.pk}:{manager.pk}",
                topic=RecordsRun.TOPIC, topic_id=run.pk,
            ))
        except ValidationFailed:
            logger.warning("records run %s: manager %s has an unusable email address", run.pk, manager.pk)
    if not queued:
        logger.error("records run %s failed and no manager has an email address: %s", run.pk, run.error)
    return queued
