"""A Celery worker of our own for the ops tests: its heartbeat every half second, consuming
only a private queue (so it never takes another test's tasks), on the test database."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpsWorker:
    def __init__(self, queue: str, hostname: str, log: Path):
        self.queue, self.hostname, self.log_path = queue, hostname, log
        self.proc: subprocess.Popen | None = None

    def start(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_WORKER_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "OPS_WORKER_HEARTBEAT_SECONDS": "0.5",
        }
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "-Q", self.queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", self.hostname],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, sig: str = "term"):
        if self.proc and self.proc.poll() is None:
            (self.proc.terminate if sig == "term" else self.proc.kill)()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def ops_worker(transactional_db, tmp_path):
    worker = OpsWorker(f"ops-test-{os.getpid()}", f"ops-test-{os.getpid()}@%h", tmp_path / "worker.log").start()
    yield worker
    worker.stop()
