"""The operations task: refresh the appeals-by-state snapshot that /metrics reads."""

from celery import shared_task

from appeals.ops import gauges


@shared_task(name="appeals.tasks.ops_appeal_state_counts", ignore_result=True)
def ops_appeal_state_counts() -> dict[str, int]:
    return gauges.refresh_state_counts()["counts"]
