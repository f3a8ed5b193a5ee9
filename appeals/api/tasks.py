"""The API shell's periodic work: expired Idempotency-Key records are deleted."""

from celery import shared_task

from appeals.api.idempotency import sweep_expired


@shared_task(name="appeals.tasks.api.idempotency_sweep", ignore_result=True)
def idempotency_sweep() -> int:
    return sweep_expired()
