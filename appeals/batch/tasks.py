"""Batch review task: the background run that moves a group's cases, one transaction each."""

from celery import shared_task

from appeals.batch import services


@shared_task(name="appeals.tasks.batch_run", ignore_result=True, acks_late=True)
def batch_run(group_id: int) -> dict:
    """Recommend or decide every pending case of the group; a redelivery continues the run."""
    group = services.batch_run(group_id=group_id)
    return {"group": group_id, "state": getattr(group, "state", None)}


@shared_task(name="appeals.tasks.batch_sweep", ignore_result=True, expires=240)
def batch_sweep() -> list[int]:
    """Periodic (beat): re-publish the runs whose task was lost."""
    return services.batch_sweep()
