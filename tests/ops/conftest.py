"""Operations fixtures: the log lines this process writes, and the session worker's."""

import io
import json
import logging
from pathlib import Path

import pytest
from django.conf import settings

from appeals.shared.logs import JsonFormatter, RequestContextFilter

ROOT = Path(__file__).resolve().parent.parent.parent


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
