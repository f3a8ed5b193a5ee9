"""Error reporting to Sentry (or a compatible server), only when SENTRY_DSN is set.

No personal data (send_default_pii=False), no request bodies (a verification code is POSTed)
and no local variables (a code or token may be held in one); each event carries the request
id of the request or task it comes from, as a tag, to find its log lines, and the same
redaction as the logs (settings.LOG_REDACT_PATTERNS: the email link's token in a URL).
"""

import json
import re

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration


def _scrub(event):
    """The log redaction patterns (the email link's token) over the whole event: its URL,
    messages, breadcrumbs and exception texts."""
    from django.conf import settings

    text = json.dumps(event, default=str)
    for pattern in settings.LOG_REDACT_PATTERNS:
        text = re.sub(pattern, "[redacted]", text)
    return json.loads(text)


def _before_send(event, hint):
    from appeals.shared.context import request_id

    rid = request_id.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return _scrub(event)


def _before_send_transaction(event, hint):
    return _scrub(event)


def sentry_init(*, dsn: str, environment: str, release: str | None = None, traces_sample_rate: float = 0.0) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_before_send,
        before_send_transaction=_before_send_transaction,
    )
