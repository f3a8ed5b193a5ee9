"""Delivery of outbox messages and the outbox sweeper (thin: ids in, services do the work)."""

from celery import shared_task
from django.conf import settings

from appeals.notifications import outbox

_N = settings.NOTIFICATIONS


@shared_task(
    bind=True,
    name="appeals.tasks.deliver_message",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_N["TASK_SOFT_TIME_LIMIT"],
    time_limit=_N["TASK_TIME_LIMIT"],
    max_retries=None,  # the outbox row counts attempts (NOTIFICATIONS["MAX_ATTEMPTS"])
)
def deliver_message(self, message_id: int) -> str:
    result = outbox.message_deliver(message_id=message_id)
    if result.retry_in is not None:
        # Exponential back-off computed by the service; if the broker is down now the row
        # stays queued with next_attempt_at and the sweeper publishes it later.
        raise self.retry(countdown=result.retry_in)
    return result.state


@shared_task(name="appeals.tasks.outbox_sweep", acks_late=True, soft_time_limit=_N["TASK_SOFT_TIME_LIMIT"],
             time_limit=_N["TASK_TIME_LIMIT"])
def outbox_sweep() -> int:
    return outbox.outbox_sweep()
