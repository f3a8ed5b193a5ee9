"""The batch plug-in: its Celery task, its API and page routes, and the link on the reviewer queues."""

from django.conf import settings

from appeals.batch import (
    tasks,  # noqa: F401  (registers the package's Celery task)
)
from appeals.shared import registry


def register() -> None:
    registry.register_urls("batch", api="appeals.batch.api", web="appeals.batch.web")
    registry.register_beat("batch-sweep", task="appeals.tasks.batch_sweep", schedule=settings.BEAT_INTERVALS["batch-sweep"])
