"""Keeps each SMS in appeals.notifications.sms.outbox (tests, benchmarks)."""

import uuid

from appeals.notifications import sms

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send(self, message) -> str:
        sms.outbox.append(message)
        return f"locmem-{uuid.uuid4().hex[:12]}"

    def lookup(self, message) -> bool | None:
        return any(m.out_id == message.out_id for m in sms.outbox)
