"""Per-request context the domain layer needs but should not take as an argument everywhere."""

from contextvars import ContextVar

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
