"""SMS backends chosen by settings.SMS_BACKEND, and the message they send.

Nothing here queues a message: `appeals.notifications.outbox.send_sms` writes an outbox row
(idempotent under its key) and delivery calls a backend, like every other message. Backends follow django.core.mail: `get_connection()` builds the configured one, and the
locmem backend collects messages in `appeals.notifications.sms.outbox` for tests.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

# Filled by the locmem backend, like django.core.mail.outbox.
outbox: list = []


@dataclass
class SmsMessage:
    phone: str
    template: str
    params: dict = field(default_factory=dict)
    text: str = ""  # the local rendering (console/file/locmem); providers hold their own template text
    out_id: str = ""  # our idempotency key, passed to the provider where it accepts one
    language: str = ""


def get_connection(backend: str | None = None, **kwargs):
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)

