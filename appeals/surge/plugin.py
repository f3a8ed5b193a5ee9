"""Surge's plug-in: every submission is counted and checked, pages learn whether the emergency
channel is open, the manager report shows the alert history, the periodic scan, and the routes."""

from django.conf import settings
from django.core.signals import setting_changed

from appeals.core import plugins
from appeals.core.workflow import register_listener
from appeals.shared import registry
from appeals.surge import (
    context,
    selectors,
    services,
    tasks,  # noqa: F401  (registers the capability's Celery tasks)
)
from appeals.surge.policy import forget_policy


def register() -> None:
    register_listener(services.on_submission)
    setting_changed.connect(forget_policy)  # tests that override settings.SURGE see it at once
    registry.register_context("surge", context.emergency)
    plugins.register_alert_history(selectors.surge_history)
    registry.register_beat("surge-scan", task="appeals.tasks.surge_scan", schedule=settings.BEAT_INTERVALS["surge-scan"])
    registry.register_urls("surge", api="appeals.surge.api", web="appeals.surge.web")
