"""Celery entry point of the platform pull: take the run's id, call the service."""

from celery import shared_task

from appeals.platform import services


# Backoffs on a busy WeCom can make a pull long: its own time limits, above the default.
@shared_task(name="appeals.tasks.platform.pull_operation_records", time_limit=1800, soft_time_limit=1700)
def pull_operation_records(run_id: int) -> str:
    return services.wecom_pull_execute(run_id=run_id).state
