"""The Celery application. Tasks live in each capability's tasks.py; periodic tasks come from
the plug-ins' beat entries (appeals.shared.registry.register_beat).

The settings module follows the same rule as manage.py and the WSGI app (config/environment.py),
so a worker started from the web process's environment runs the web process's settings.
Log lines are Django's LOGGING (JSON, appeals/shared/logs.py), and each task carries the
request id, user and appeal of the request that queued it (before_task_publish -> headers ->
task_prerun), so the worker's lines for that task carry the same request id.
"""

from celery import Celery, signals
from celery.beat import PersistentScheduler

from config.environment import use_settings_module

use_settings_module()

app = Celery("appeal_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each package's tasks.py; the names are explicit (name="appeals.tasks....") and stable.
app.autodiscover_tasks(
    ["appeals.audit", "appeals.notifications", "appeals.evidence", "appeals.sla", "appeals.surge"], related_name="tasks"
)

# Task message headers that carry the log context (appeals.shared.context.LOG_CONTEXT).
CONTEXT_HEADERS = {"request_id": "x_request_id", "user_id": "x_user_id", "appeal": "x_appeal"}


@signals.setup_logging.connect
def _django_logging(**kwargs):
    """Workers and beat log like the web process (Celery's own formatter is not installed)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _send_log_context(headers=None, **kwargs):
    from appeals.shared.context import log_context

    if headers is None:
        return
    for field, value in log_context().items():
        if value is not None:
            headers.setdefault(CONTEXT_HEADERS[field], value)


@signals.task_prerun.connect
def _restore_log_context(task=None, **kwargs):
    from appeals.shared.context import LOG_CONTEXT

    request = getattr(task, "request", None)
    for field, var in LOG_CONTEXT.items():
        var.set(getattr(request, CONTEXT_HEADERS[field], None) if request is not None else None)


@signals.task_postrun.connect
def _clear_log_context(**kwargs):
    from appeals.shared.context import LOG_CONTEXT

    for var in LOG_CONTEXT.values():
        var.set(None)


@signals.celeryd_init.connect
def _worker_startup_checks(**kwargs):
    """The evidence bucket exists (or is created) before the worker takes a task."""
    from config.startup import startup_checks_or_exit

    startup_checks_or_exit("celery worker")


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
