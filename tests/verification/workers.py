"""Start and kill real Celery worker processes for the fault tests.

Like tests/conftest.py's `celery_worker`, but one per test, with the solo pool (the
process that runs the task is the process we SIGKILL), its own queue (so no other
worker of the session takes the tasks) and short, consistent time limits:
task time limit < send lease < broker visibility timeout.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent

FAULT_LIMITS = {
    "NOTIFICATIONS_TASK_SOFT_TIME_LIMIT": "3",
    "NOTIFICATIONS_TASK_TIME_LIMIT": "4",
    "NOTIFICATIONS_SEND_LEASE": "5",
    "CELERY_VISIBILITY_TIMEOUT": "6",
    "NOTIFICATIONS_SWEEP_AFTER": "1",
    "NOTIFICATIONS_BACKOFF_BASE": "0.5",
}


def reset_broker_pools() -> None:
    """Forget this process's pooled broker connections and producers, so the next publish uses
    the broker URL and options as they are now."""
    from kombu import pools

    from config.celery import app

    pools.reset()  # closes and forgets every pooled connection and producer
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def private_broker(django_settings, tag: str):
    """A notifications queue and a broker key prefix of the test's own on the shared Redis,
    yielded as (queue, prefix); the queue starts empty.

    Give the prefix to the test's workers (CELERY_BROKER_KEYPREFIX): their short visibility
    timeout can then only ever restore their own unacknowledged messages, never another
    test's, and no other worker of the session takes their tasks.
    """
    from config.celery import app

    database = django_settings.DATABASES["default"]["NAME"]
    queue, prefix = f"{tag}-{database}", f"{tag}-{database}:"
    original = dict(app.conf.broker_transport_options or {})
    reset_broker_pools()
    app.conf.broker_transport_options = {**original, "global_keyprefix": prefix}
    django_settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "QUEUE": queue}
    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_declare(queue, passive=True)
        except Exception:  # not declared yet: nothing to purge
            pass
        else:
            conn.default_channel.queue_purge(queue)
    try:
        yield queue, prefix
    finally:
        reset_broker_pools()
        app.conf.broker_transport_options = original


class Worker:
    def __init__(self, *, queue: str, extra_env: dict, tag: str):
        db_name = settings.DATABASES["default"]["NAME"]
        self.name = f"fault-{db_name}-{tag}@{socket.gethostname()}"
        self.queue = queue
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_WORKER_DATABASE_NAME": db_name,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "NOTIFICATIONS_QUEUE": queue,
            **FAULT_LIMITS,
            **extra_env,
        }
        self.log_path = ROOT / f".celery-worker-{db_name}-{tag}.log"
        self.proc = None

    def start(self, timeout: float = 60.0) -> "Worker":
        from config.celery import app

        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", self.queue, "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", self.name],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log_path}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return self
        self.kill()
        raise RuntimeError(f"worker did not answer a ping; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack, no chance to finish the send."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
