"""The Celery application. Tasks live in each capability's tasks.py; periodic tasks come from
the plug-ins' beat entries (appeals.shared.registry.register_beat).

The settings module follows the same rule as manage.py and the WSGI app (config/environment.py),
so a worker started from the web process's environment runs the web process's settings.
Log lines are Django's LOGGING (JSON, appeals/shared/logs.py), and each task carries the
request id, user and appeal of the request that queued it (before_task_publish -> headers ->
task_prerun), so the worker's lines for that task carry the same request id.
"""

import logging
import os
import socket
import uuid

from celery import Celery, signals
from celery.beat import PersistentScheduler

from config.environment import use_settings_module

use_settings_module()
logger = logging.getLogger("appeals.beat")

app = Celery("appeal_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each package's tasks.py; the names are explicit (name="appeals.tasks....") and stable.
app.autodiscover_tasks(
    ["appeals.audit", "appeals.notifications", "appeals.evidence", "appeals.sla", "appeals.surge", "appeals.ops", "appeals.records",
     "appeals.api"],
    related_name="tasks",
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


# Only the holder of this Redis key schedules; renewed only by its holder (compare, then extend).
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class BeatLock:
    """One beat per deployment: SET key token NX PX ttl to take it, renewed on every tick while
    held. A second beat (started by mistake, or a standby) finds it taken and idles; when the
    holder dies its key lapses after the TTL and the other beat takes over. A beat that cannot
    reach Redis schedules nothing (the broker is on the same Redis: nothing could be sent)."""

    def __init__(self, url: str, key: str, ttl_seconds: float):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key, self.ttl_ms = key, int(ttl_seconds * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.held = False
        # Ticks come at least this often while held, so the key is renewed well inside its TTL.
        self.renew_every = max(ttl_seconds / 3, 0.2)

    def hold(self) -> bool:
        import redis

        try:
            if self.held and self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                return True
            self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        except redis.RedisError:
            logger.warning("beat lock %s: Redis unreachable; scheduling nothing until it answers", self.key, exc_info=True)
            self.held = False
        return self.held

    def release(self) -> None:
        import redis

        try:
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except redis.RedisError:
            pass
        self.held = False


def beat_lock_from_settings() -> "BeatLock | None":
    from django.conf import settings

    url = settings.CELERY_BROKER_URL if str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://")) else ""
    if not url or not settings.BEAT_LOCK["ENABLED"]:
        return None
    return BeatLock(url, settings.BEAT_LOCK["KEY"], settings.BEAT_LOCK["TTL_SECONDS"])


class PluginScheduler(PersistentScheduler):
    """Celery beat's default scheduler, reading the plug-ins' entries when it sets up
    (settings: CELERY_BEAT_SCHEDULER), and scheduling only while it holds the deployment's beat
    lock (BeatLock, settings.BEAT_LOCK), so two beats never fire a task twice. Beat's loader
    has set Django up by then."""

    lock: "BeatLock | None" = None

    def setup_schedule(self):
        from django.apps import apps

        if not apps.ready:
            import django

            django.setup()
        merge_plugin_beat_schedule(self.app)
        super().setup_schedule()
        self.lock = beat_lock_from_settings()
        self._standing_by = False

    def tick(self, *args, **kwargs):
        if self.lock is None:
            return super().tick(*args, **kwargs)
        was_held = self.lock.held
        if not self.lock.hold():
            if was_held:
                logger.warning("beat lock %s lost: another beat schedules now", self.lock.key)
            if was_held or not self._standing_by:
                logger.info("beat lock %s is held by another beat: standing by", self.lock.key)
                self._standing_by = True
            return self.lock.renew_every
        if not was_held:
            logger.info("beat lock %s acquired: this beat schedules", self.lock.key)
            self._standing_by = False
        return min(super().tick(*args, **kwargs), self.lock.renew_every)

    def close(self):
        if self.lock is not None:
            self.lock.release()
        super().close()
