"""Celery entry points for the evidence library: take an id, reload, call the service."""

from celery import shared_task

from appeals.evidence import services as evidence_services


@shared_task(name="appeals.tasks.evidence.derive_display_copies")
def derive_display_copies(item_id: int) -> str:
    item = evidence_services.evidence_derive_display_copies(item_id=item_id)
    return item.derived_status


@shared_task(name="appeals.tasks.evidence.analyse_operation_log")
def analyse_operation_log(item_id: int) -> str:
    analysis = evidence_services.evidence_analyse_log(item_id=item_id)
    return analysis.status


@shared_task(name="appeals.tasks.evidence.sweep_stranded", ignore_result=True)
def sweep_stranded() -> dict:
    """Every few minutes (beat): queue again the display copies and log analyses a dead
    worker left pending or running."""
    return evidence_services.evidence_sweep_stranded()
