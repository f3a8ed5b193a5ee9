"""Celery signal receivers: the worker heartbeat and the task-failure counter.

The heartbeat is a thread in the worker's main process, started when the worker is ready to
consume (celery.signals.worker_ready); it writes the time to Redis every
OPS["WORKER_HEARTBEAT_SECONDS"] and removes its entry on a clean shutdown. It needs neither beat
nor worker events (`--without-heartbeat` turns off Celery's own broker heartbeats, not this one).
Task failures are counted by task name in Redis (celery.signals.task_failure, in whichever
pool process ran the task), so every worker and every web process reads the same totals.
"""

import logging
import socket
import threading

from celery import signals
from django.conf import settings

from appeals.ops import store

log = logging.getLogger(__name__)

_stop = threading.Event()
_hostname: list[str] = []


def _beat_forever(hostname: str, interval: float) -> None:
    while not _stop.is_set():
        try:
            store.beat(hostname)
        except Exception:  # Redis down: the next beat tries again; /readyz reports the gap.
            log.warning("worker heartbeat not written", exc_info=True)
        _stop.wait(interval)


def on_worker_ready(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None) or f"{socket.gethostname()}"
    _hostname[:] = [hostname]
    _stop.clear()
    interval = float(settings.OPS["WORKER_HEARTBEAT_SECONDS"])
    threading.Thread(target=_beat_forever, args=(hostname, interval), name="ops-heartbeat", daemon=True).start()


def on_worker_shutdown(sender=None, **kwargs) -> None:
    _stop.set()
    if _hostname:
        try:
            store.forget(_hostname[0])
        except Exception:
            log.warning("worker heartbeat entry not removed", exc_info=True)


def on_task_failure(sender=None, **kwargs) -> None:
    name = getattr(sender, "name", None) or "unknown"
    try:
        store.count_failure(name)
    except Exception:
        log.warning("task failure of %s not counted", name, exc_info=True)


def connect_signals() -> None:
    signals.worker_ready.connect(on_worker_ready, dispatch_uid="appeals.ops.worker_ready")
    signals.worker_shutdown.connect(on_worker_shutdown, dispatch_uid="appeals.ops.worker_shutdown")
    signals.task_failure.connect(on_task_failure, dispatch_uid="appeals.ops.task_failure")
