"""Records' plug-in: the daily backup, the monthly restore drill, the retention sweep, the
session/token purge, the legal-hold panel on the case page and its routes."""

from django.conf import settings

from appeals.core.panels import register_panel
from appeals.records import (
    tasks,  # noqa: F401  (registers the Celery tasks)
    web,
)
from appeals.shared import registry


def register() -> None:
    for name, task in (("records-backup", "records_backup"), ("records-restore-drill", "records_restore_drill"),
                       ("records-retention", "records_retention"), ("records-purge-sessions", "records_purge_sessions")):
        registry.register_beat(name, task=f"appeals.tasks.{task}", schedule=settings.BEAT_INTERVALS[name])
    register_panel("records-legal-hold", 90, web.render_panel)
    registry.register_urls("records", api="appeals.records.api", web="appeals.records.web")
