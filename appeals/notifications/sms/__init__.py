"""SMS: the public entry point `send_sms` and backends chosen by settings.SMS_BACKEND.

`send_sms` does not talk to a provider: it writes an outbox row (idempotent under its
key) and queues delivery after commit, exactly like every other message of the desk.
Backends follow django.core.mail: `get_connection()` builds the configured one, and the
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


def send_sms(*, phone: str, template: str, params: dict, idempotency_key: str | None = None, appeal=None,
             language: str | None = None) -> str:
    """Queue one SMS for delivery through the outbox; returns its idempotency key.

    Calling it twice with the same key queues one message. Call it inside the
    transaction that causes the message: delivery is enqueued only after commit.
    """
    from appeals.models import Channel
    from appeals.notifications.outbox import message_queue

    message = message_queue(channel=Channel.SMS, recipient=phone, template=template, params=params,
                            idempotency_key=idempotency_key, appeal=appeal, language=language)
    return message.idempotency_key
