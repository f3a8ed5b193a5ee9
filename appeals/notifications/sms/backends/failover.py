"""Several SMS providers in order of preference (settings.SMS_PROVIDERS), with failover.

The first provider whose circuit breaker (appeals/notifications/sms/health.py) lets it gets
the message; when it fails or times out repeatedly its breaker opens and messages go to the
next one; after a cool-down one message probes it, and on success messages come back to it.

A message is never sent by two providers. The rule:

1. Before a provider is called, the outbox row records it: `Message.sms_provider` = its
   name and `Message.sms_outcome_unknown` = True, committed on its own. A worker that dies
   during the call leaves that record behind.
2. A clear failure (the connection was refused or never made, or the provider answered with
   a documented error code, i.e. it refused the request before accepting the message) sets
   `sms_outcome_unknown` = False: nobody holds the message, and it may go to the next
   provider at once, in the same attempt, after step 1 for that provider.
3. An ambiguous failure (no answer after the request was written, HTTP 5xx, the provider's
   own "internal timeout") leaves the record as it is and the outbox retries later. Every
   later attempt (and the outbox's reconciliation of a dead worker's claim) first asks THAT
   provider (`lookup`): it has the message -> sent, nothing more is sent; it has not -> the
   message is free again (rule 2); it cannot tell (Tencent: receipts lag) -> a retry resends
   it through that same provider only, whatever its breaker says, while a dead worker's claim
   is failed by the outbox as before ("cannot tell": never a blind second send). It never
   moves to another provider without the first one's word that it does not have it.
4. A refusal of the message itself (an invalid number, that number's own limits) is not
   tried elsewhere: another provider would refuse it too.

The provider id the outbox stores is prefixed with the provider's name ("tencent:<serial>").
Provider credentials come from the environment (settings.ALIBABA_SMS, settings.TENCENT_SMS),
never from the database, and are never logged.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from appeals.notifications.errors import DeliveryError, TransientDeliveryError
from appeals.notifications.models import Message
from appeals.notifications.sms import health

from .base import BaseSmsBackend

logger = logging.getLogger(__name__)


def providers() -> list[str]:
    return [name for name in settings.SMS_PROVIDERS if name]


def provider_backend(name: str) -> BaseSmsBackend:
    return import_string(settings.SMS_PROVIDER_BACKENDS[name])()


def _record(out_id: str, **fields) -> None:
    """Write the hand-over record on the outbox row, committed before the provider is called."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        Message.objects.filter(idempotency_key=out_id).update(**fields)


def _holder(out_id: str) -> str:
    """The provider that may hold this message (its last call's outcome is unknown), or ""."""
    row = Message.objects.filter(idempotency_key=out_id).values("sms_provider", "sms_outcome_unknown").first()
    return row["sms_provider"] if row and row["sms_outcome_unknown"] else ""


class SmsBackend(BaseSmsBackend):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.names = kwargs.get("providers") or providers()
        self._backends: dict[str, BaseSmsBackend] = {}

    def backend(self, name: str) -> BaseSmsBackend:
        if name not in self._backends:
            self._backends[name] = provider_backend(name)
        return self._backends[name]

    def lookup(self, message) -> bool | None:
        holder = _holder(message.out_id)
        if not holder:
            return False  # rule 1: no provider was called, or the last one refused it
        if holder not in settings.SMS_PROVIDER_BACKENDS:
            return None
        reached = self.backend(holder).lookup(message)
        if reached is False:
            _record(message.out_id, sms_outcome_unknown=False)
        return reached

    def send(self, message) -> str:
        holder = _holder(message.out_id)
        if holder:
            reached = self.lookup(message)  # a TransientDeliveryError here: ask again later
            if reached:
                _record(message.out_id, sms_outcome_unknown=False)
                logger.info("SMS %s: %s confirms it has it; not sent again", message.out_id, holder)
                return f"{holder}:confirmed"
            if reached is None:
                return self._send_through(holder, message, skipped=[])  # rule 3: that provider only
        skipped: list[str] = []
        last_error: DeliveryError | None = None
        worth_retrying = False  # an open breaker or a passing refusal: a later attempt may succeed
        for name in self.names:
            if not health.allow(name):
                skipped.append(f"{name}:open")
                continue
            try:
                return self._send_through(name, message, skipped=skipped)
            except DeliveryError as exc:
                if exc.ambiguous or not exc.provider_fault:
                    raise
                skipped.append(f"{name}:refused")
                last_error, worth_retrying = exc, worth_retrying or exc.retryable
        if last_error is not None and not worth_retrying and not any(s.endswith(":open") for s in skipped):
            raise last_error  # every provider refused it for good
        raise TransientDeliveryError(
            "no SMS provider took the message (" + ", ".join(skipped) + ")",
            code=last_error.code if last_error else "providers_unavailable")

    def _send_through(self, name: str, message, *, skipped: list[str]) -> str:
        _record(message.out_id, sms_provider=name, sms_outcome_unknown=True)
        try:
            provider_id = self.backend(name).send(message)
        except DeliveryError as exc:
            if exc.provider_fault:
                health.record_failure(name, code=exc.code)
            else:
                health.record_success(name)  # it answered properly: the message was the problem
            if not exc.ambiguous:
                _record(message.out_id, sms_outcome_unknown=False)
            logger.info("SMS %s via %s: %s%s", message.out_id, name, exc.code or type(exc).__name__,
                        " (outcome unknown: stays with this provider)" if exc.ambiguous else "")
            raise
        except Exception as exc:  # a bug or an unexpected answer: treat as unsure
            health.record_failure(name, code=type(exc).__name__)
            raise TransientDeliveryError(f"{type(exc).__name__} from {name}", code="unexpected", ambiguous=True) from exc
        _record(message.out_id, sms_outcome_unknown=False)
        health.record_success(name)
        if skipped:
            health.record_failover(name, out_id=message.out_id, skipped=skipped)
        return f"{name}:{provider_id}"

