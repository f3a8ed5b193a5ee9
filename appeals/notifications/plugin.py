"""The outbox's plug-in: the sweeper that re-publishes stranded messages, its time-limit check, and
the SMS providers' figures for the manager page (`sms_health`, lazy: read only where shown)."""

from django.conf import settings
from django.core import checks
from django.utils.functional import SimpleLazyObject

from appeals.notifications import (
    dev_inbox,
    tasks,  # noqa: F401  (registers the capability's Celery tasks)
)
from appeals.notifications.checks import check_sms_providers, check_time_limits
from appeals.notifications.sms import health as sms_health
from appeals.shared import registry


def register() -> None:
    registry.register_beat("notifications-outbox-sweep", task="appeals.tasks.outbox_sweep",
                          schedule=settings.BEAT_INTERVALS["notifications-outbox-sweep"])
    checks.register(check_time_limits)
    checks.register(check_sms_providers)
    registry.register_urls("dev-inbox", web="appeals.notifications.web")
    registry.register_context("dev-inbox", lambda request: {"dev_inbox_url": dev_inbox.INBOX_PATH if dev_inbox.enabled() else ""})
    registry.register_urls("sms-providers", web="appeals.notifications.sms.web")
    registry.register_context("sms-health", lambda request: {"sms_health": SimpleLazyObject(sms_health.overview)})
