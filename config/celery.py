"""The Celery application. Tasks live in each capability's tasks.py; periodic tasks come from
the plug-ins' beat entries (appeals.shared.registry.register_beat)."""

import os

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("appeal_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each package's tasks.py; the names are explicit (name="appeals.tasks....") and stable.
app.autodiscover_tasks(
    ["appeals.audit", "appeals.notifications", "appeals.evidence", "appeals.sla", "appeals.surge", "appeals.records"], related_name="tasks"
)


def merge_plugin_beat_schedule(celery_app=app) -> dict:
    """The plug-ins' periodic tasks merged under the configured schedule (Django must be set up)."""
    from appeals.shared.registry import beat_schedule

    celery_app.conf.beat_schedule = {**beat_schedule(), **(celery_app.conf.beat_schedule or {})}
    return celery_app.conf.beat_schedule


class PluginScheduler(PersistentScheduler):
    """Celery beat's default scheduler, reading the plug-ins' entries when it sets up
    (settings: CELERY_BEAT_SCHEDULER). Beat's loader has set Django up by then."""

    def setup_schedule(self):
        from django.apps import apps

        if not apps.ready:
            import django

            django.setup()
        merge_plugin_beat_schedule(self.app)
        super().setup_schedule()
