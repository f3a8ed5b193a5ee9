"""The outbox: queue a message durably, deliver it at most once per attempt, sweep strays.

Delivery is a three-step dance so that neither a broker outage nor a dying worker loses
or doubles a message:
1. `message_queue` writes the row (unique idempotency key) in the caller's transaction
   and publishes the delivery task only after commit; if the broker is down the row
   stays `queued` and `outbox_sweep` publishes it again later.
2. `message_deliver` claims the row (`sending`, attempts+1, claimed_at) and commits
   BEFORE calling the provider. A redelivered task finds the claim and does nothing.
3. If the worker died mid-send the claim goes stale (older than SEND_LEASE_SECONDS,
   longer than the task's hard time limit). The next delivery asks the backend whether
   the provider got it (`lookup`): yes -> sent; no -> send; cannot tell -> failed with
   the reason, never a blind second send.
"""

import hashlib
import logging
import math
import random
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from kombu import pools

from appeals.notifications import rendering, webhook
from appeals.notifications.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from appeals.notifications.models import Channel, Message, MessageChannel, MessageState
from appeals.notifications.sms import SmsMessage, get_connection
from appeals.shared.context import site_url
from appeals.shared.exceptions import RateLimited, ValidationFailed
from appeals.shared.tasks import publish
from appeals.shared.validators import mask_phone, normalise_mobile

logger = logging.getLogger(__name__)

DELIVER_TASK = "appeals.tasks.deliver_message"  # appeals.notifications.tasks.deliver_message


def _conf(key):
    return settings.NOTIFICATIONS[key]


# --- queueing ------------------------------------------------------------------------------


def _publish_pool():
    """Pooled broker connections that fail at once when the broker is down.

    Celery's own producer would retry connecting for broker_connection_timeout (seconds
    per message) inside the request that committed; the outbox makes waiting pointless.
    """
    conn = current_app.connection_for_write(transport_options={"max_retries": 0, "socket_connect_timeout": 2, "socket_timeout": 5})
    return pools.connections[conn]


def enqueue(message_id: int) -> bool:
    """Publish the delivery task now; False (logged) if the broker is unreachable."""
    options = {"retry": False}
    if _conf("QUEUE"):
        options["queue"] = _conf("QUEUE")
    try:
        if current_app.conf.task_always_eager:
            publish(DELIVER_TASK, message_id, **options)
        else:
            with _publish_pool().acquire(block=True, timeout=5) as connection:
                publish(DELIVER_TASK, message_id, connection=connection, **options)
        return True
    except Exception:  # broker down: the row stays queued and the sweeper retries
        logger.warning("could not publish delivery of message %s; the outbox sweeper will retry", message_id, exc_info=True)
        return False


def _validate_recipient(channel: str, recipient: str) -> str:
    """The recipient in its canonical form (a phone: its 11 digits), or ValidationFailed."""
    if channel == MessageChannel.WEBHOOK:
        if webhook.url_problem(recipient or "", resolve=False):
            raise ValidationFailed(fields={"url": [_("Enter an https URL that can receive webhooks.")]})
        return recipient
    if channel == Channel.SMS:
        try:
            return normalise_mobile(recipient)
        except Exception as exc:
            raise ValidationFailed(fields={"phone": list(getattr(exc, "messages", [str(exc)]))}) from None
    if "@" not in (recipient or ""):
        raise ValidationFailed(fields={"to": [_("Enter a valid email address.")]})
    return recipient


def _check_sms_cap(phone: str) -> None:
    """The per-phone daily SMS cap, for every SMS the system queues (a verification code on
    submit or on resend, a surge alert): at most NOTIFICATIONS["SMS_DAILY_CAP_PER_PHONE"]
    to one canonical number in SMS_CAP_WINDOW_HOURS. Every queued SMS counts, sent or not.

    No lock is taken here (message_queue runs late in transactions that already hold the
    audit chain lock; a lock per phone taken after it could close a cycle): two SMS queued to
    one phone in the same instant may both take its last slot."""
    cap, hours = _conf("SMS_DAILY_CAP_PER_PHONE"), _conf("SMS_CAP_WINDOW_HOURS")
    now = timezone.now()
    recent = Message.objects.filter(channel=Channel.SMS, recipient=phone, created_at__gt=now - timedelta(hours=hours))
    if recent.count() < cap:
        return
    oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
    wait = max(1, math.ceil((oldest + timedelta(hours=hours) - now).total_seconds()))
    message = _("The phone %(phone)s has received the most text messages allowed in %(hours)d hours.") % {
        "phone": mask_phone(phone), "hours": hours}
    raise RateLimited(message, code="phone_daily_cap", fields={"phone": [message]}, retry_after=wait)


@transaction.atomic
def message_queue(*, channel: str, recipient: str, template: str, params: dict | None = None, idempotency_key: str | None = None,
                  appeal=None, challenge=None, language: str | None = None, topic: str = "", topic_id: int | None = None) -> Message:
    """Write one outbox row and publish its delivery after commit. Idempotent per key.

    `topic`/`topic_id` say what the message is about (a surge alert, an SLA notice) so the
    capability that queued it can list its messages and their state."""
    recipient = _validate_recipient(channel, recipient)
    if not template:
        raise ValidationFailed(fields={"template": [_("Name the message template.")]})
    params = params or {}
    if idempotency_key is None:
        basis = f"{channel}|{recipient}|{template}|{sorted(params.items())}|{timezone.now().isoformat()}|{random.random()}"
        idempotency_key = f"adhoc:{hashlib.sha256(basis.encode()).hexdigest()[:40]}"
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing:
        return existing
    if channel == Channel.SMS:
        _check_sms_cap(recipient)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                idempotency_key=idempotency_key, channel=channel, recipient=recipient, template=template, params=params,
                appeal=appeal, challenge=challenge, language=rendering.normalise_language(language or get_language()),
                topic=topic, topic_id=topic_id,
            )
    except IntegrityError:  # a concurrent caller queued the same key first
        return Message.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(partial(enqueue, message.pk))
    return message


def send_sms(*, phone: str, template: str, params: dict, idempotency_key: str | None = None, appeal=None,
             language: str | None = None) -> str:
    """Queue one SMS for delivery through the outbox; returns its idempotency key.

    Calling it twice with the same key queues one message. Call it inside the
    transaction that causes the message: delivery is enqueued only after commit.
    """
    message = message_queue(channel=Channel.SMS, recipient=phone, template=template, params=params,
                            idempotency_key=idempotency_key, appeal=appeal, language=language)
    return message.idempotency_key


# --- delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    message_id: int
    state: str
    retry_in: float | None = None  # seconds: the task should run again then
    detail: str = ""


def backoff_seconds(attempts: int) -> float:
    base = _conf("BACKOFF_BASE_SECONDS") * (2 ** max(attempts - 1, 0))
    return min(base, _conf("BACKOFF_MAX_SECONDS")) * random.uniform(0.8, 1.2)


def _max_attempts(message: Message) -> int:
    return settings.WEBHOOKS["MAX_ATTEMPTS"] if message.channel == MessageChannel.WEBHOOK else _conf("MAX_ATTEMPTS")


@dataclass
class _Payload:
    sms: SmsMessage | None = None
    email: EmailMessage | None = None
    hook: webhook.WebhookRequest | None = None


def _message_id_header(message: Message) -> str:
    return f"<{hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]}@appeal-desk>"


def _build(message: Message, params: dict) -> _Payload:
    if message.channel == MessageChannel.WEBHOOK:
        return _Payload(hook=webhook.build(message))
    if message.channel == Channel.SMS:
        text = rendering.render_sms_text(message.template, params, message.language)
        return _Payload(sms=SmsMessage(phone=message.recipient, template=message.template, params=params, text=text,
                                       out_id=message.idempotency_key, language=message.language))
    subject, body = rendering.render_email(message.template, params, message.language)
    headers = {"Message-ID": _message_id_header(message), "Auto-Submitted": "auto-generated",
               "X-Appeal-Desk-Message": message.idempotency_key}
    if params.get("reference"):
        headers["X-Appeal-Reference"] = params["reference"]
    if message.topic:
        headers["X-Appeal-Desk-Topic"] = f"{message.topic}:{message.topic_id or ''}"
    return _Payload(email=EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                                       to=[message.recipient], headers=headers))


def _lookup(message: Message) -> bool | None:
    if message.channel == MessageChannel.WEBHOOK:
        # No one to ask: the interrupted attempt is sent again under the same webhook-id,
        # which receivers deduplicate on (at least once per attempt; appeals/notifications/webhook.py).
        return False
    if message.channel != Channel.SMS:
        # SMTP itself cannot say whether an interrupted send went through; a relay or mail
        # provider that can be asked by Message-ID is plugged in as NOTIFICATIONS["EMAIL_LOOKUP"].
        if not _conf("EMAIL_LOOKUP"):
            return None
        return import_string(_conf("EMAIL_LOOKUP"))(message_id=_message_id_header(message), recipient=message.recipient)
    return get_connection().lookup(SmsMessage(phone=message.recipient, template=message.template, out_id=message.idempotency_key))


def _dispatch(payload: _Payload, message: Message) -> str:
    if payload.hook is not None:
        return webhook.post(message, payload.hook)
    if payload.sms is not None:
        return get_connection().send(payload.sms) or ""
    try:
        payload.email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentDeliveryError(f"recipient refused: {exc.recipients}", code="smtp_refused") from exc
    except smtplib.SMTPResponseException as exc:
        cls = PermanentDeliveryError if 500 <= exc.smtp_code < 600 else TransientDeliveryError
        raise cls(str(exc.smtp_error), code=f"smtp_{exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(str(exc), code="smtp_unavailable") from exc
    return payload.email.extra_headers["Message-ID"]


def _finish(message_id: int, **fields) -> Message:
    with transaction.atomic(durable=True):
        if connection.vendor == "postgresql":
            # The outcome need not wait for its own fsync: if PostgreSQL itself crashed and
            # lost it, the row is back to "sending" and is reconciled with the provider like
            # any interrupted send. The claim before the provider call stays synchronous.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        message = Message.objects.select_for_update().get(pk=message_id)
        for key, value in fields.items():
            setattr(message, key, value)
        message.save()
    return message


_secret_minter = None


def register_secret_minter(fn) -> None:
    """fn(challenge_id=...) -> the parameters minted at send time (a fresh code or link), or
    None when the challenge no longer needs its message. Registered by the verification plug-in."""
    global _secret_minter
    _secret_minter = fn


def _secret_params(message: Message) -> dict | None:
    """Parameters minted at send time (a fresh code or link); None if no longer needed."""
    if message.challenge_id is None:
        return {}
    if _secret_minter is None:  # nothing can mint the secret: the message is moot
        return None
    secret = _secret_minter(challenge_id=message.challenge_id)
    if secret and "link_path" in secret:
        # A minted link is a path; it goes on the site the message was queued from.
        secret["link"] = (message.params.get("site_url") or site_url()) + secret.pop("link_path")
    return secret


def message_deliver(*, message_id: int) -> DeliveryResult:
    now = timezone.now()
    lease = timedelta(seconds=_conf("SEND_LEASE_SECONDS"))
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return DeliveryResult(message_id, "missing")
        if message.state in (MessageState.SENT, MessageState.FAILED):
            return DeliveryResult(message_id, message.state, detail="already final")
        if message.state == MessageState.SENDING:
            if message.claimed_at and message.claimed_at > now - lease:
                return DeliveryResult(message_id, message.state, detail="in flight in another worker")
            # The worker that claimed it died mid-send: ask the provider before anything else.
            try:
                reached = _lookup(message)
            except TransientDeliveryError as exc:
                return DeliveryResult(message_id, message.state, retry_in=backoff_seconds(1), detail=str(exc))
            if reached:
                message.state, message.sent_at = MessageState.SENT, now
                message.reason = _("Confirmed with the provider after the sending worker stopped.")
                message.save()
                return DeliveryResult(message_id, message.state, detail="reconciled")
            if reached is None:
                message.state = MessageState.FAILED
                message.reason = _("The sending worker stopped mid-send and the provider cannot say whether it arrived; "
                                   "not resent to avoid a duplicate. Request a new one.")
                message.save()
                return DeliveryResult(message_id, message.state, detail="unknown outcome")
        if message.next_attempt_at and message.next_attempt_at > now:
            return DeliveryResult(message_id, message.state, retry_in=(message.next_attempt_at - now).total_seconds())
        secret = _secret_params(message)
        if secret is None:
            message.state = MessageState.FAILED
            message.reason = _("Not sent: the verification was completed or replaced before delivery.")
            message.save()
            return DeliveryResult(message_id, message.state, detail="obsolete")
        try:
            payload = _build(message, {**message.params, **secret})
        except Exception as exc:  # a template that cannot render would otherwise be swept forever
            logger.exception("message %s cannot be prepared", message_id)
            message.state = MessageState.FAILED
            message.reason = _("Could not be prepared: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
            message.save()
            return DeliveryResult(message_id, message.state, detail="unrenderable")
        message.state, message.claimed_at, message.next_attempt_at = MessageState.SENDING, now, None
        message.attempts += 1
        message.save()
    # The claim is committed: from here a redelivered task leaves this message alone.
    try:
        provider_id = _dispatch(payload, message)
    except DeliveryError as exc:
        if exc.retryable and message.attempts < _max_attempts(message):
            delay = backoff_seconds(message.attempts)
            if getattr(exc, "retry_after", None):  # a receiver's 429 Retry-After, within the cap
                delay = max(delay, min(exc.retry_after, _conf("BACKOFF_MAX_SECONDS")))
            _finish(message_id, state=MessageState.QUEUED, reason=str(exc), claimed_at=None,
                    next_attempt_at=timezone.now() + timedelta(seconds=delay))
            logger.info("message %s: provider error %s, retry in %.0f s", message_id, exc, delay)
            return DeliveryResult(message_id, MessageState.QUEUED, retry_in=delay, detail=str(exc))
        _finish(message_id, state=MessageState.FAILED, reason=str(exc))
        logger.warning("message %s failed for good: %s", message_id, exc)
        return DeliveryResult(message_id, MessageState.FAILED, detail=str(exc))
    _finish(message_id, state=MessageState.SENT, provider_id=provider_id[:120], sent_at=timezone.now(), reason="")
    return DeliveryResult(message_id, MessageState.SENT)


# --- the sweeper --------------------------------------------------------------------------------


def outbox_sweep(*, now=None) -> int:
    """Publish again what a broker outage or a dead worker left behind; returns how many."""
    now = now or timezone.now()
    stale_queued = Q(state=MessageState.QUEUED, updated_at__lte=now - timedelta(seconds=_conf("SWEEP_AFTER_SECONDS"))) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    dead_claims = Q(state=MessageState.SENDING, claimed_at__lte=now - timedelta(seconds=_conf("SEND_LEASE_SECONDS")))
    ids = list(Message.objects.filter(stale_queued | dead_claims).order_by("id").values_list("id", flat=True)[: _conf("SWEEP_BATCH")])
    published = 0
    for message_id in ids:
        if not enqueue(message_id):
            break  # broker still down: try the rest next time
        # Touch the row so a long backlog is not re-published every sweep.
        Message.objects.filter(pk=message_id, state=MessageState.QUEUED).update(updated_at=now)
        published += 1
    if ids:
        logger.info("outbox sweep: %s stranded message(s), %s published", len(ids), published)
    return published
