"""The operations plug-in: the probe and metrics routes, the appeal-state snapshot's beat entry,
and the Celery signal receivers (worker heartbeat, task failures)."""

from django.conf import settings

from appeals.ops import (
    tasks,  # noqa: F401  (registers the Celery task)
    worker,
)
from appeals.shared import registry


def register() -> None:
    registry.register_urls("ops", web="appeals.ops.urls")
    registry.register_beat("ops-appeal-state-counts", task="appeals.tasks.ops_appeal_state_counts",
                           schedule=settings.BEAT_INTERVALS["ops-appeal-state-counts"])
    worker.connect_signals()
