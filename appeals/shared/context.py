"""Per-request context the domain layer needs but should not take as an argument everywhere."""

from contextvars import ContextVar

from django.conf import settings

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)

request_site_url: ContextVar[str | None] = ContextVar("request_site_url", default=None)
"""The scheme and host the current request came to (validated against ALLOWED_HOSTS)."""

LOCAL_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """Where links in messages point: SITE_URL when set, else the request that caused the
    message (so `make run HOST=127.0.0.1:8101` mails working links), else the local default."""
    return (settings.SITE_URL or request_site_url.get() or LOCAL_SITE_URL).rstrip("/")
