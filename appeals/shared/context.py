"""Per-request context the domain layer needs but should not take as an argument everywhere.

`request_ip` feeds the audit log. `request_id`, the user and `appeal_ref` feed every log line
(appeals.shared.logs) and travel with the Celery tasks a request queues (config/celery.py), so
a worker's lines carry the id of the request that caused them.
"""

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
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
appeal_ref: ContextVar[str | None] = ContextVar("appeal_ref", default=None)
# The HTTP request being served, read only to tell who is signed in (current_user_id).
current_request: ContextVar[object | None] = ContextVar("current_request", default=None)


def request_user_id(request) -> int | None:
    """The signed-in user's id once something asked who it is (the session middleware's lazy
    user once evaluated, or the user DRF's authentication set); never a query just for a log."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or type(wrapped) is object:  # django.utils.functional.empty: not evaluated yet
        return None
    return getattr(wrapped, "pk", None)


def current_user_id() -> int | None:
    value = user_id.get()
    if value is None and (request := current_request.get()) is not None:
        value = request_user_id(request)
    return value


def log_context() -> dict:
    """The fields every log line and every queued task carry."""
    return {"request_id": request_id.get(), "user_id": current_user_id(), "appeal": appeal_ref.get()}


# Name of each field in log lines and Celery task headers -> its variable (restored in a worker).
LOG_CONTEXT = {"request_id": request_id, "user_id": user_id, "appeal": appeal_ref}
