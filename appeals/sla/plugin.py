"""The SLA's plug-in: the clock follows every transition and every severity change, queues
sort by it, the built-in auto-resolution conditions, periodic scans, and the report routes."""

from django.conf import settings

from appeals.core import plugins
from appeals.core.workflow import register_listener
from appeals.shared import registry
from appeals.sla import (
    auto_resolution,
    services,
    tasks,  # noqa: F401  (registers the capability's Celery tasks)
)
from appeals.sla.selectors import SLA_DUE_ORDER


def register() -> None:
    register_listener(services.on_transition)
    plugins.register_severity_listener(services.sla_severity_changed)
    plugins.register_appeal_related("sla")
    plugins.register_queue_order(SLA_DUE_ORDER)
    plugins.register_auto_resolution_condition("minor_severity", auto_resolution.minor_severity)
    plugins.register_auto_resolution_condition("no_recent_incident", auto_resolution.no_recent_incident)
    for name, task in (("sla-scan", "appeals.tasks.sla_scan"), ("sla-auto-resolve", "appeals.tasks.sla_auto_resolve"),
                       ("sla-report-snapshots", "appeals.tasks.refresh_report_snapshots"),
                       ("sla-calendar-check", "appeals.tasks.calendar_year_check")):
        registry.register_beat(name, task=task, schedule=settings.BEAT_INTERVALS[name])
    registry.register_urls("sla", api="appeals.sla.api", web="appeals.sla.web")
