"""Celery entry points for the evidence library: take an id, reload, call the service.

A task whose transaction PostgreSQL picked as a deadlock victim (or that failed to
serialise) is not lost: the services retry their write step in-process
(appeals.shared.db.retry_on_lock_conflict) and, should the conflict outlast that, the task
is queued again with a growing countdown.
"""

from celery import shared_task
from django.db import DatabaseError

from appeals.evidence import services as evidence_services
from appeals.shared.db import is_lock_conflict

CONFLICT_RETRIES = 5


def _retry_on_conflict(task, exc: DatabaseError):
    if is_lock_conflict(exc) and task.request.retries < CONFLICT_RETRIES:
        raise task.retry(exc=exc, countdown=2 ** task.request.retries)
    raise exc


@shared_task(name="appeals.tasks.evidence.derive_display_copies", bind=True, max_retries=CONFLICT_RETRIES)
def derive_display_copies(self, item_id: int) -> str:
    try:
        item = evidence_services.evidence_derive_display_copies(item_id=item_id)
    except DatabaseError as exc:
        _retry_on_conflict(self, exc)
    return item.derived_status


@shared_task(name="appeals.tasks.evidence.analyse_operation_log", bind=True, max_retries=CONFLICT_RETRIES)
def analyse_operation_log(self, item_id: int) -> str:
    try:
        analysis = evidence_services.evidence_analyse_log(item_id=item_id)
    except DatabaseError as exc:
        _retry_on_conflict(self, exc)
    return analysis.status


@shared_task(name="appeals.tasks.evidence.sweep_stranded", ignore_result=True)
def sweep_stranded() -> dict:
    """Every few minutes (beat): queue again the display copies and log analyses a dead
    worker left pending or running."""
    return evidence_services.evidence_sweep_stranded()
