"""The API shell's plug-in: the beat entry that deletes expired Idempotency-Key records."""

from django.conf import settings

from appeals.api import tasks  # noqa: F401  (registers the shell's Celery task)
from appeals.shared import registry


def register() -> None:
    registry.register_beat("idempotency-sweep", task="appeals.tasks.api.idempotency_sweep",
                           schedule=settings.BEAT_INTERVALS["idempotency-sweep"])
