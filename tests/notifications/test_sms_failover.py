"""Failover between two SMS providers through the outbox, in-process, against both stand-ins
(Tencent first, Alibaba second): the breaker, the way back, and the rule that a message is
never sent by both (appeals/notifications/sms/backends/failover.py)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.audit.models import AuditEvent
from appeals.notifications.models import Channel, Message, MessageState
from appeals.notifications.outbox import message_deliver, message_queue
from appeals.notifications.sms import health

from .tencent_server import FakeTencentSms

pytestmark = pytest.mark.django_db


def _queue(i: int) -> Message:
    return message_queue(channel=Channel.SMS, recipient=f"139{i:08d}", template="verification_code",
                         params={"code": f"{i:06d}", "minutes": 10}, idempotency_key=f"failover-test:{i}")


def _deliver(message: Message) -> Message:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=None)  # no back-off wait in a test
    message_deliver(message_id=message.pk)
    return Message.objects.get(pk=message.pk)


def _alibaba_out_ids(alibaba) -> set[str]:
    return {m["OutId"] for m in alibaba.sent}


def _audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("position"))


def test_the_first_provider_takes_messages_while_it_is_well(providers_settings, tencent, alibaba):
    message = _deliver(_queue(1))
    assert message.state == MessageState.SENT
    assert message.sms_provider == "tencent" and not message.sms_outcome_unknown
    assert message.provider_id == "tencent:" + tencent.sent[0]["SerialNo"]
    assert tencent.session_contexts() == {"failover-test:1"} and not alibaba.sent


def test_a_provider_refusal_moves_the_message_to_the_second_provider_in_the_same_attempt(providers_settings, tencent, alibaba):
    tencent.script = ["FailedOperation.InsufficientBalanceInSmsPackage"]
    message = _deliver(_queue(1))
    assert message.state == MessageState.SENT and message.attempts == 1
    assert message.sms_provider == "alibaba" and message.provider_id.startswith("alibaba:")
    assert not tencent.sent and _alibaba_out_ids(alibaba) == {"failover-test:1"}
    [event] = _audited("sms_provider.failover")
    assert event.target_id == "alibaba" and event.after == {"message": "failover-test:1", "from": ["tencent:refused"]}


def test_primary_down_then_back(providers_settings, tencent, alibaba):
    """Tencent stops listening: messages go to Alibaba (after two refused connections the
    breaker opens and Tencent is not even tried); Tencent listens again: after the cool-down
    one message probes it, and the messages after it are Tencent's again."""
    providers_settings.SMS_FAILOVER = {**providers_settings.SMS_FAILOVER, "COOL_DOWN_SECONDS": 3.0}
    port = tencent.port
    tencent.stop()
    down = [_deliver(_queue(i)) for i in range(1, 6)]
    assert all(m.state == MessageState.SENT and m.sms_provider == "alibaba" for m in down)
    assert health.state("tencent") == health.OPEN
    [tripped] = _audited("sms_provider.tripped")
    assert tripped.target_id == "tencent" and tripped.after["failures"] == 2 and tripped.after["last_code"] == "network"
    # Only the two messages that met the refused connection were audited as moved.
    assert [e.after["message"] for e in _audited("sms_provider.failover")] == ["failover-test:1", "failover-test:2"]

    back = FakeTencentSms(port=port).start()
    try:
        time.sleep(providers_settings.SMS_FAILOVER["COOL_DOWN_SECONDS"] + 0.1)
        recovered = [_deliver(_queue(i)) for i in range(6, 10)]
        assert all(m.state == MessageState.SENT and m.sms_provider == "tencent" for m in recovered)
        assert health.state("tencent") == health.CLOSED
        assert [e.target_id for e in _audited("sms_provider.recovered")] == ["tencent"]
        assert back.session_contexts() == {f"failover-test:{i}" for i in range(6, 10)}
    finally:
        back.stop()
    assert _alibaba_out_ids(alibaba) == {f"failover-test:{i}" for i in range(1, 6)}
    assert not back.session_contexts() & _alibaba_out_ids(alibaba)
    rows = {r["name"]: r for r in health.recent(["tencent", "alibaba"])}
    assert rows["alibaba"]["failover"] == 5 and rows["alibaba"]["ok"] == 5
    assert rows["tencent"]["ok"] == 4 and rows["tencent"]["fail"] == 2 and rows["tencent"]["success_rate"] == pytest.approx(66.7)


def test_a_failed_probe_keeps_the_breaker_open(providers_settings, tencent, alibaba):
    tencent.script = ["RequestLimitExceeded"] * 3
    _deliver(_queue(1)), _deliver(_queue(2))
    assert health.state("tencent") == health.OPEN
    time.sleep(1.1)
    assert health.state("tencent") == health.HALF_OPEN
    probe = _deliver(_queue(3))  # the probe meets the third refusal and goes on to Alibaba
    assert probe.sms_provider == "alibaba" and health.state("tencent") == health.OPEN
    assert len(_audited("sms_provider.tripped")) == 1 and not _audited("sms_provider.recovered")


def test_only_one_message_probes_a_half_open_provider(providers_settings):
    providers_settings.SMS_FAILOVER = {**providers_settings.SMS_FAILOVER, "FAILURE_THRESHOLD": 1}
    health.record_failure("tencent", code="network")
    time.sleep(1.1)
    assert [health.allow("tencent") for _ in range(3)] == [True, False, False]


def test_after_a_timeout_the_message_stays_with_its_provider_which_confirms_it(providers_settings, tencent, alibaba):
    """Tencent took the message but its answer never came: the message is not handed to
    Alibaba; the next attempt asks Tencent, which has it: sent, once."""
    tencent.hang_seconds, tencent.record_then_hang = 3.0, True
    providers_settings.TENCENT_SMS = {**providers_settings.TENCENT_SMS, "TIMEOUT_SECONDS": 0.5}
    message = _deliver(_queue(1))
    assert message.state == MessageState.QUEUED
    assert message.sms_provider == "tencent" and message.sms_outcome_unknown
    assert not alibaba.requests
    tencent.hang_seconds = 0
    message = _deliver(message)
    assert message.state == MessageState.SENT and message.provider_id == "tencent:confirmed"
    assert len(tencent.sent) == 1 and not alibaba.sent


def test_a_provider_that_cannot_tell_gets_the_resend_even_with_its_breaker_open(providers_settings, tencent, alibaba):
    """Tencent timed out and has no receipt (it cannot say whether it took the message): the
    message is resent through Tencent, never Alibaba, although Tencent's breaker is open."""
    tencent.hang_seconds = 3.0  # hangs before taking it
    providers_settings.TENCENT_SMS = {**providers_settings.TENCENT_SMS, "TIMEOUT_SECONDS": 0.5}
    message = _deliver(_queue(1))
    assert message.state == MessageState.QUEUED and message.sms_outcome_unknown
    health.record_failure("tencent", code="timeout")  # the second failure: open
    assert health.state("tencent") == health.OPEN
    tencent.hang_seconds = 0
    other = _deliver(_queue(2))  # a new message: routed around the open breaker
    assert other.sms_provider == "alibaba"
    message = _deliver(message)
    assert message.state == MessageState.SENT and message.sms_provider == "tencent"
    assert tencent.session_contexts() == {"failover-test:1"}
    assert _alibaba_out_ids(alibaba) == {"failover-test:2"}


def test_a_provider_that_says_it_does_not_have_it_frees_the_message(providers_settings, tencent, alibaba):
    """Alibaba first this time: it timed out before taking the message and its
    QuerySendDetails does not list it, so the retry may go to Tencent."""
    providers_settings.SMS_PROVIDERS = ["alibaba", "tencent"]
    providers_settings.ALIBABA_SMS = {**providers_settings.ALIBABA_SMS, "TIMEOUT_SECONDS": 0.5}
    alibaba.script = ["http_500"]  # 5xx: ambiguous
    message = _deliver(_queue(1))
    assert message.state == MessageState.QUEUED and message.sms_provider == "alibaba" and message.sms_outcome_unknown
    alibaba.script = ["isv.AMOUNT_NOT_ENOUGH"]  # asked first (lookup: not there), then refuses for its own reason
    message = _deliver(message)
    assert message.state == MessageState.SENT and message.sms_provider == "tencent"
    assert alibaba.requests[-2]["Action"] == "QuerySendDetails"
    assert not alibaba.sent and tencent.session_contexts() == {"failover-test:1"}


def test_a_refusal_of_the_message_itself_is_not_tried_elsewhere(providers_settings, tencent, alibaba):
    tencent.script = ["LimitExceeded.PhoneNumberDailyLimit"]
    message = _deliver(_queue(1))
    assert message.state == MessageState.FAILED and "PhoneNumberDailyLimit" in message.reason
    assert not alibaba.requests and health.state("tencent") == health.CLOSED


def test_a_dead_workers_claim_is_reconciled_with_the_provider_it_was_handed_to(providers_settings, tencent, alibaba):
    from appeals.notifications.sms import SmsMessage
    from appeals.notifications.sms.backends.tencent import SmsBackend as Tencent

    message = _queue(1)
    Tencent().send(SmsMessage(phone=message.recipient, template="verification_code", params={"code": "1", "minutes": 1},
                              out_id=message.idempotency_key))
    stale = timezone.now() - timedelta(seconds=providers_settings.NOTIFICATIONS["SEND_LEASE_SECONDS"] + 5)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, claimed_at=stale, attempts=1,
                                                 sms_provider="tencent", sms_outcome_unknown=True)
    message = _deliver(message)
    assert message.state == MessageState.SENT and len(tencent.sent) == 1 and not alibaba.requests


def test_a_claim_that_never_reached_a_provider_is_sent_after_the_worker_died(providers_settings, tencent, alibaba):
    message = _queue(1)
    stale = timezone.now() - timedelta(seconds=providers_settings.NOTIFICATIONS["SEND_LEASE_SECONDS"] + 5)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, claimed_at=stale, attempts=1)
    message = _deliver(message)
    assert message.state == MessageState.SENT and message.sms_provider == "tencent" and len(tencent.sent) == 1


def test_the_breaker_works_from_process_memory_when_redis_is_down(providers_settings, tencent, alibaba, unused_port):
    providers_settings.CACHES = {"default": {"BACKEND": "appeals.shared.cache.RedisFailOpenCache",
                                             "LOCATION": f"redis://127.0.0.1:{unused_port}/0", "KEY_PREFIX": "down"}}
    tencent.stop()
    down = [_deliver(_queue(i)) for i in range(1, 4)]
    assert [m.sms_provider for m in down] == ["alibaba"] * 3
    assert health.state("tencent") == health.OPEN
    assert len(alibaba.sent) == 3


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_system_check_names_unknown_providers_and_timeouts_past_the_task_limit(settings):
    from appeals.notifications.checks import check_sms_providers

    settings.SMS_BACKEND = "appeals.notifications.sms.backends.failover.SmsBackend"
    settings.SMS_PROVIDERS = ["tencent", "alibaba"]
    assert check_sms_providers() == []
    settings.SMS_PROVIDERS = ["tencent", "huawei"]
    assert [e.id for e in check_sms_providers()] == ["appeals.E402"]
    settings.SMS_PROVIDERS = ["tencent", "alibaba"]
    settings.TENCENT_SMS = {**settings.TENCENT_SMS, "TIMEOUT_SECONDS": 45.0}
    assert [e.id for e in check_sms_providers()] == ["appeals.E403"]
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.locmem.SmsBackend"
    assert check_sms_providers() == []


def test_refused_for_good_by_every_provider_fails_but_a_passing_refusal_keeps_it_queued(providers_settings, tencent, alibaba):
    providers_settings.SMS_FAILOVER = {**providers_settings.SMS_FAILOVER, "FAILURE_THRESHOLD": 5}  # no breaker here
    tencent.script = ["FailedOperation.InsufficientBalanceInSmsPackage"]
    alibaba.script = ["isv.AMOUNT_NOT_ENOUGH"]
    assert _deliver(_queue(1)).state == MessageState.FAILED
    tencent.script = ["RequestLimitExceeded"]  # throttled: worth another try later
    alibaba.script = ["isv.AMOUNT_NOT_ENOUGH"]
    message = _deliver(_queue(2))
    assert message.state == MessageState.QUEUED and not message.sms_outcome_unknown
    assert _deliver(message).state == MessageState.SENT and tencent.session_contexts() == {"failover-test:2"}
    assert not alibaba.sent
