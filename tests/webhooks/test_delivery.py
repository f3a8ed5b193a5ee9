"""One delivery attempt at a time, in-process, against the loopback receiver: what each answer
does to the outbox row and the delivery log (the worker runs the same service)."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.core.services import appeals as svc
from appeals.notifications.models import Message, MessageChannel, MessageState
from appeals.notifications.outbox import message_deliver
from appeals.webhooks import services
from appeals.webhooks.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_timeouts(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "READ_TIMEOUT_SECONDS": 0.5, "CONNECT_TIMEOUT_SECONDS": 0.5}


@pytest.fixture
def raise_event(intake_guards_off, draft_appeal, enterprise_admin):
    """Submit the draft: one event, one queued message per endpoint registered before."""

    def submit():
        svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
        return WebhookEvent.objects.get(), Message.objects.get(channel=MessageChannel.WEBHOOK)

    return submit


def _due_now(message):
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _log(endpoint):
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id").values_list("attempt", "outcome", "status_code"))


def test_a_2xx_delivers_the_signed_body_once(endpoint_for, enterprise_admin, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin)
    event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.SENT
    assert message_deliver(message_id=message.pk).detail == "already final"
    assert [r["valid"] for r in receiver.requests] == [True]
    assert receiver.processed == {event.webhook_id: event.payload}
    assert _log(endpoint) == [(1, "delivered", 200)]
    message.refresh_from_db()
    assert message.provider_id == "http 200" and message.attempts == 1


def test_a_5xx_is_retried_with_backoff_under_the_same_id(endpoint_for, enterprise_admin, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin, script=[("status", 500), ("status", 503)])
    event, message = raise_event()
    first = message_deliver(message_id=message.pk)
    assert first.state == MessageState.QUEUED and first.retry_in > 0
    message.refresh_from_db()
    assert message.next_attempt_at > timezone.now() and "500" in message.reason
    # Not before its time.
    assert message_deliver(message_id=message.pk).retry_in > 0 and len(receiver.requests) == 1
    _due_now(message)
    assert message_deliver(message_id=message.pk).state == MessageState.QUEUED
    _due_now(message)
    assert message_deliver(message_id=message.pk).state == MessageState.SENT
    assert [r["id"] for r in receiver.requests] == [event.webhook_id] * 3
    assert _log(endpoint) == [(1, "transient", 500), (2, "transient", 503), (3, "delivered", 200)]
    assert receiver.process_count[event.webhook_id] == 1


def test_a_timeout_is_retried(fast_timeouts, endpoint_for, enterprise_admin, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin, script=[("timeout", 1.5), ("slow", 0.2)])
    event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.QUEUED
    _due_now(message)
    assert message_deliver(message_id=message.pk).state == MessageState.SENT
    log = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [(d.outcome, d.status_code) for d in log] == [("transient", None), ("delivered", 200)]
    assert log[0].error.startswith("timeout") and 400 <= log[0].latency_ms < 1500 and log[1].latency_ms >= 200


def test_a_4xx_fails_for_good(endpoint_for, enterprise_admin, raise_event):
    endpoint, _receiver = endpoint_for(enterprise_admin, script=[("status", 410)])
    _event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert "410" in message.reason
    assert _log(endpoint) == [(1, "refused", 410)]


def test_a_429_waits_as_long_as_retry_after_says(endpoint_for, enterprise_admin, raise_event):
    _endpoint, _receiver = endpoint_for(enterprise_admin, script=[("status", 429, {"Retry-After": "120"})])
    _event, message = raise_event()
    result = message_deliver(message_id=message.pk)
    assert result.state == MessageState.QUEUED and 119 <= result.retry_in <= 121


def test_attempts_are_capped(settings, endpoint_for, enterprise_admin, raise_event):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "MAX_ATTEMPTS": 3}
    endpoint, _receiver = endpoint_for(enterprise_admin, script=[("status", 500)] * 5)
    _event, message = raise_event()
    for _ in range(3):
        _due_now(message)
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and message.attempts == 3
    assert [a for a, _o, _s in _log(endpoint)] == [1, 2, 3]


def test_a_receiver_down_is_a_connection_error_retried(endpoint_for, enterprise_admin, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin)
    receiver.stop()
    _event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.QUEUED
    assert WebhookDelivery.objects.get(endpoint=endpoint).error.startswith("connection")


def test_the_post_goes_to_the_address_that_was_checked_not_to_a_rebound_name(fast_timeouts, endpoint_for, enterprise_admin,
                                                                             raise_event, monkeypatch):
    """DNS rebinding: a name that resolves to an allowed address for the check and to a refused
    one a moment later. The resolver is the one stand-in here (no DNS server of ours answers
    for a name): `localhost` is the receiver's loopback address once, then 10.0.0.1."""
    endpoint, receiver = endpoint_for(enterprise_admin)
    port = int(receiver.url.split(":")[2].split("/")[0])
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding(host, *args, **kwargs):
        if host != "localhost":
            return real_getaddrinfo(host, *args, **kwargs)
        address = "127.0.0.1" if not answers else "10.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    type(endpoint).objects.filter(pk=endpoint.pk).update(url=f"http://localhost:{port}/hooks")
    _event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.SENT
    assert answers == ["127.0.0.1"]  # resolved once, for the check; the POST went to that address
    assert [(r["valid"], r["host"]) for r in receiver.requests] == [(True, f"localhost:{port}")]
    assert _log(endpoint) == [(1, "delivered", 200)]


def test_after_a_rotation_both_secrets_sign_until_the_old_one_expires(endpoint_for, enterprise_admin, manager, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin)
    old_secret = receiver.secret
    endpoint, new_secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, by=enterprise_admin, keep_previous_hours=1)
    _event, message = raise_event()
    assert message_deliver(message_id=message.pk).state == MessageState.SENT  # the receiver still holds the old one
    assert len(receiver.requests[0]["signatures"].split(" ")) == 2
    receiver.secret = new_secret
    endpoint, newest = services.webhook_endpoint_rotate_secret(endpoint=endpoint, by=enterprise_admin, keep_previous_hours=0)
    services.webhook_redeliver(delivery=WebhookDelivery.objects.get(), by=manager)
    redelivery = Message.objects.filter(channel=MessageChannel.WEBHOOK).exclude(pk=message.pk).get()
    assert message_deliver(message_id=redelivery.pk).state == MessageState.FAILED  # 401: the old secret is gone
    assert [r["valid"] for r in receiver.requests] == [True, False] and old_secret != newest


def test_an_endpoint_disabled_after_queueing_gets_nothing(endpoint_for, enterprise_admin, raise_event):
    endpoint, receiver = endpoint_for(enterprise_admin)
    _event, message = raise_event()
    services.webhook_endpoint_update(endpoint=endpoint, by=enterprise_admin, active=False)
    assert message_deliver(message_id=message.pk).state == MessageState.FAILED
    assert receiver.requests == []


def test_an_interrupted_send_is_sent_again_under_the_same_id(endpoint_for, enterprise_admin, raise_event, settings):
    """The worker died after its claim (the row is `sending`, its lease expired): a webhook has
    no provider to ask, so the attempt goes again with the same webhook-id; the receiver that
    had processed it acknowledges without processing twice."""
    endpoint, receiver = endpoint_for(enterprise_admin)
    event, message = raise_event()
    receiver._process(event.webhook_id, b"{}")  # the dead worker's request had arrived
    lease = settings.NOTIFICATIONS["SEND_LEASE_SECONDS"]
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, attempts=1,
                                                 claimed_at=timezone.now() - timedelta(seconds=lease + 1))
    assert message_deliver(message_id=message.pk).state == MessageState.SENT
    assert [r["id"] for r in receiver.requests] == [event.webhook_id]
    assert receiver.process_count[event.webhook_id] == 1
    assert _log(endpoint) == [(2, "delivered", 200)]
