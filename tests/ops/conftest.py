"""Operations fixtures: a Celery worker of our own (its heartbeat every half second, consuming
only a private queue, on the test database), the log lines this process writes, and the
session worker's."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from appeals.shared.logs import JsonFormatter, RequestContextFilter

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


class LogLines:
    """Every line the root logger writes through the project's JSON formatter, parsed."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]  # one object per line, or this fails


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter(redact=settings.LOG_REDACT_PATTERNS))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield LogLines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class WorkerLog:
    """The session worker's log file (tests/conftest.py), from where this test began."""

    def __init__(self):
        self.path = ROOT / f".celery-worker-{settings.DATABASES['default']['NAME']}.log"
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    @property
    def text(self) -> str:
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            return f.read()

    def records(self) -> list[dict]:
        out = []
        for line in self.text.splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out


@pytest.fixture
def worker_log(celery_worker):
    return WorkerLog()
