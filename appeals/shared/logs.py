"""Structured logs: one JSON object per line, with the request's id, user and appeal.

`RequestContextFilter` copies the request context (appeals.shared.context) onto each record;
`JsonFormatter` writes timestamp, level, logger, message, request_id, user_id and appeal
first, then the record's other plain fields, and masks whatever matches the redaction
patterns (settings.LOG_REDACT_PATTERNS: links that carry a token) in every text it writes.
Nothing of an HTTP request object is written: Django attaches the request to its
`django.request` records, and its repr holds the full path.
"""

import logging
import re
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from appeals.shared.context import log_context, request_user_id

REDACTED = "[redacted]"
_STANDARD = {
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname", "levelno", "lineno",
    "module", "msecs", "message", "msg", "name", "pathname", "process", "processName", "relativeCreated",
    "stack_info", "thread", "threadName", "taskName", "request", "color_message",
}


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and appeal (None outside a request or a task that had one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for field, value in {**log_context(), **_from_request(getattr(record, "request", None))}.items():
            if getattr(record, field, None) is None:
                setattr(record, field, value)
        return True


def _from_request(request) -> dict:
    """Django logs a request's 4xx/5xx outcome after the middleware has returned (the context
    is gone by then) with the request attached: read the same fields from it."""
    if request is None or not hasattr(request, "request_id"):
        return {}
    match = getattr(request, "resolver_match", None)
    reference = match.kwargs.get("reference") if match is not None else None
    return {"request_id": request.request_id, "user_id": request_user_id(request),
            "appeal": reference if isinstance(reference, str) else None}


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args, redact=(), **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)
        self.patterns = [re.compile(p) for p in redact]

    def scrub(self, text):
        if isinstance(text, str):
            for pattern in self.patterns:
                text = pattern.sub(REDACTED, text)
        return text

    def add_fields(self, log_data, record, message_dict):
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        for field, value in {**log_context(), **_from_request(getattr(record, "request", None))}.items():
            own = getattr(record, field, None)
            log_data[field] = value if own is None else own
        for key, value in record.__dict__.items():
            if key in _STANDARD or key in log_data or key.startswith("_"):
                continue
            if value is None or isinstance(value, str | int | float | bool):
                log_data[key] = value
        log_data.update(message_dict)

    def process_log_record(self, log_data):
        return {key: self.scrub(value) for key, value in log_data.items()}
