"""The outbox's plug-in: the sweeper that re-publishes stranded messages, and its time-limit check."""

from django.conf import settings
from django.core import checks

from appeals.notifications import tasks  # noqa: F401  (registers the capability's Celery tasks)
from appeals.notifications.checks import check_time_limits
from appeals.shared import registry


def register() -> None:
    registry.register_beat("notifications-outbox-sweep", task="appeals.tasks.outbox_sweep",
                          schedule=settings.BEAT_INTERVALS["notifications-outbox-sweep"])
    checks.register(check_time_limits)
