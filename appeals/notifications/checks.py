"""System checks for the outbox's time limits (registered by the notifications plug-in)."""

from django.conf import settings
from django.core import checks


def check_time_limits(app_configs=None, **kwargs):
    """A send must be killed before its lease lapses, and both before Redis redelivers it."""
    n = settings.NOTIFICATIONS
    visibility = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout", 3600)
    if not n["TASK_SOFT_TIME_LIMIT"] <= n["TASK_TIME_LIMIT"] < n["SEND_LEASE_SECONDS"] < visibility:
        return [checks.Error(
            "Notification time limits must satisfy soft <= hard time limit < send lease < broker visibility timeout "
            f"(now {n['TASK_SOFT_TIME_LIMIT']} / {n['TASK_TIME_LIMIT']} / {n['SEND_LEASE_SECONDS']} / {visibility} s).",
            id="appeals.E401")]
    return []
