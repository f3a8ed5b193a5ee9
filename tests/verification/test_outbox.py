"""Delivery through the outbox: idempotent claims, back-off on provider errors, reconciliation, the sweeper."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from appeals.models import Channel, Message, MessageState
from appeals.notifications import outbox
from appeals.notifications.outbox import send_sms
from appeals.notifications.sms import SmsMessage, get_connection
from appeals.shared.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db


def _queue_sms(key="test:1", phone="13812345678"):
    send_sms(phone=phone, template="surge_alert", params={"slice": "all"}, idempotency_key=key)
    return Message.objects.get(idempotency_key=key)


def test_send_sms_is_idempotent_per_key_and_validates(sms_outbox):
    a = send_sms(phone="13812345678", template="surge_alert", params={"x": 1}, idempotency_key="surge:1:manager")
    b = send_sms(phone="13812345678", template="surge_alert", params={"x": 2}, idempotency_key="surge:1:manager")
    assert a == b == "surge:1:manager"
    assert Message.objects.filter(idempotency_key=a).count() == 1
    with pytest.raises(ValidationFailed) as exc:
        send_sms(phone="12345", template="surge_alert", params={})
    assert "phone" in exc.value.fields
    with pytest.raises(ValidationFailed):
        send_sms(phone="13812345678", template="", params={})


def test_a_redelivered_task_never_sends_twice(sms_outbox):
    message = _queue_sms()
    first = outbox.message_deliver(message_id=message.pk)
    second = outbox.message_deliver(message_id=message.pk)
    assert (first.state, second.state) == (MessageState.SENT, MessageState.SENT)
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1 and message.sent_at and message.provider_id.startswith("locmem-")


def test_a_fresh_claim_is_left_alone(sms_outbox):
    message = _queue_sms()
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, claimed_at=timezone.now(), attempts=1)
    result = outbox.message_deliver(message_id=message.pk)
    assert result.detail == "in flight in another worker" and sms_outbox == []


def test_stale_claim_reconciled_with_the_provider(sms_outbox, settings):
    message = _queue_sms()
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS["SEND_LEASE_SECONDS"] + 1)
    # The provider got it before the worker died: confirmed, not resent.
    get_connection().send(SmsMessage(phone=message.recipient, template=message.template, out_id=message.idempotency_key))
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, claimed_at=stale, attempts=1)
    assert outbox.message_deliver(message_id=message.pk).detail == "reconciled"
    assert len(sms_outbox) == 1
    # The provider never got it: sent now, once.
    other = _queue_sms("test:2")
    Message.objects.filter(pk=other.pk).update(state=MessageState.SENDING, claimed_at=stale, attempts=1)
    assert outbox.message_deliver(message_id=other.pk).state == MessageState.SENT
    assert [m.out_id for m in sms_outbox] == ["test:1", "test:2"]
    other.refresh_from_db()
    assert other.attempts == 2


def test_stale_email_claim_is_failed_not_resent(settings):
    message = outbox.message_queue(channel=Channel.EMAIL, recipient="a@example.com", template="appeal_decided",
                                   params={"reference": "AP-1", "state": "approved"}, idempotency_key="mail:1")
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS["SEND_LEASE_SECONDS"] + 1)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, claimed_at=stale, attempts=1)
    assert outbox.message_deliver(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert "not resent" in message.reason and mail.outbox == []


def test_provider_errors_back_off_exponentially_then_send(alibaba_settings, alibaba, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "BACKOFF_BASE_SECONDS": 5.0, "BACKOFF_MAX_SECONDS": 600.0}
    alibaba.script = ["isv.BUSINESS_LIMIT_CONTROL", "http_500"]
    message = _queue_sms()
    delays = []
    for expected in ("isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR"):
        result = outbox.message_deliver(message_id=message.pk)
        message.refresh_from_db()
        assert result.state == MessageState.QUEUED and message.state == MessageState.QUEUED
        assert expected in message.reason
        delays.append(result.retry_in)
        # Too early: the task is told to come back later, nothing is sent.
        early = outbox.message_deliver(message_id=message.pk)
        assert early.retry_in and early.retry_in <= result.retry_in + 0.01 and not alibaba.sent
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert 4.0 <= delays[0] <= 6.0 and 8.0 <= delays[1] <= 12.0  # 5 s, then 10 s (+-20 % jitter)
    assert outbox.message_deliver(message_id=message.pk).state == MessageState.SENT
    message.refresh_from_db()
    assert message.attempts == 3 and len(alibaba.sent) == 1 and message.reason == ""
    assert message.provider_id == alibaba.sent[0]["BizId"]


def test_backoff_is_capped():
    assert outbox.backoff_seconds(30) <= 600 * 1.2


def test_permanent_error_fails_at_once_with_reason(alibaba_settings, alibaba):
    alibaba.script = ["isv.MOBILE_NUMBER_ILLEGAL"]
    message = _queue_sms()
    assert outbox.message_deliver(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and "isv.MOBILE_NUMBER_ILLEGAL" in message.reason and message.attempts == 1


def test_gives_up_after_max_attempts(alibaba_settings, alibaba, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 3}
    alibaba.script = ["Throttling.User"] * 5
    message = _queue_sms()
    states = []
    for _i in range(3):
        states.append(outbox.message_deliver(message_id=message.pk).state)
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert states == [MessageState.QUEUED, MessageState.QUEUED, MessageState.FAILED]
    message.refresh_from_db()
    assert message.attempts == 3 and "Throttling.User" in message.reason and not alibaba.sent


def _published(queue: str) -> list[int]:
    """Message ids of the delivery tasks waiting in a Redis queue (read from the real broker)."""
    import base64
    import json

    import redis
    from django.conf import settings as django_settings

    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    ids = []
    for raw in client.lrange(queue, 0, -1):
        envelope = json.loads(raw)
        args = json.loads(base64.b64decode(envelope["body"]))[0]
        ids.append(args[0])
    client.delete(queue)
    return ids


def test_sweeper_publishes_stranded_rows_only(sms_outbox, settings):
    queue = f"test-sweep-{settings.DATABASES['default']['NAME']}"
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": queue}
    _published(queue)
    now = timezone.now()
    old = now - timedelta(seconds=settings.NOTIFICATIONS["SWEEP_AFTER_SECONDS"] + 5)
    fresh = _queue_sms("k:fresh")
    stranded = _queue_sms("k:stranded")
    waiting = _queue_sms("k:backoff")
    dead = _queue_sms("k:dead")
    live = _queue_sms("k:live")
    done = _queue_sms("k:done")
    Message.objects.filter(pk=stranded.pk).update(updated_at=old)
    Message.objects.filter(pk=waiting.pk).update(updated_at=old, next_attempt_at=now + timedelta(minutes=5))
    Message.objects.filter(pk=dead.pk).update(state=MessageState.SENDING, claimed_at=now - timedelta(hours=1))
    Message.objects.filter(pk=live.pk).update(state=MessageState.SENDING, claimed_at=now)
    Message.objects.filter(pk=done.pk).update(state=MessageState.SENT, updated_at=old)
    assert outbox.outbox_sweep(now=now) == 2
    published = _published(queue)
    assert sorted(published) == sorted([stranded.pk, dead.pk])
    assert fresh.pk not in published
    # A re-published queued row is not published again at the next sweep.
    assert outbox.outbox_sweep(now=now + timedelta(seconds=1)) == 1 and _published(queue) == [dead.pk]


def test_system_check_orders_the_time_limits(settings):
    from appeals.notifications.checks import check_time_limits

    assert check_time_limits() == []
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SEND_LEASE_SECONDS": 30}  # shorter than the 60 s hard limit
    assert [e.id for e in check_time_limits()] == ["appeals.E401"]
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SEND_LEASE_SECONDS": 90}
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
    assert [e.id for e in check_time_limits()] == ["appeals.E401"]


def test_a_message_that_cannot_be_prepared_fails_once_instead_of_looping():
    message = outbox.message_queue(channel=Channel.EMAIL, recipient="a@example.com", template="no_such_template",
                                   params={}, idempotency_key="mail:broken")
    assert outbox.message_deliver(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert message.reason.startswith("Could not be prepared: TemplateDoesNotExist") and message.attempts == 0
    assert outbox.outbox_sweep(now=timezone.now() + timedelta(hours=1)) == 0
