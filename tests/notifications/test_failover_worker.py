"""Failover with a real Celery worker: Tencent down, messages go to Alibaba; Tencent back,
messages come back to it. Both providers are loopback stand-ins; no message reaches both."""

import time

import pytest
from django.db import transaction

from appeals.audit.models import AuditEvent
from appeals.notifications.models import Channel, Message, MessageState
from appeals.notifications.outbox import message_queue
from appeals.notifications.sms import health
from tests.conftest import wait_for
from tests.verification.workers import Worker

from . import tencent_server
from .tencent_server import FakeTencentSms

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

COOL_DOWN = 5.0  # long enough that no probe falls among the six messages sent while Tencent is down


@pytest.fixture
def failover_worker(private_broker_queue, tencent, alibaba):
    name, prefix = private_broker_queue
    worker = Worker(queue=name, tag="sms-failover", extra_env={
        "CELERY_BROKER_KEYPREFIX": prefix,
        "SMS_BACKEND": "appeals.notifications.sms.backends.failover.SmsBackend",
        "SMS_PROVIDERS": "tencent,alibaba",
        "TENCENT_SMS_ENDPOINT": tencent.endpoint,
        "TENCENT_SMS_SECRET_ID": tencent_server.SECRET_ID,
        "TENCENT_SMS_SECRET_KEY": tencent_server.SECRET_KEY,
        "TENCENT_SMS_SDK_APP_ID": tencent_server.SDK_APP_ID,
        "TENCENT_SMS_TIMEOUT": "1",
        "ALIBABA_SMS_ENDPOINT": alibaba.endpoint,
        "ALIBABA_SMS_ACCESS_KEY_ID": alibaba.KEY_ID,
        "ALIBABA_SMS_ACCESS_KEY_SECRET": alibaba.SECRET,
        "ALIBABA_SMS_TIMEOUT": "1",
        "SMS_BREAKER_FAILURES": "2",
        "SMS_BREAKER_COOL_DOWN": str(COOL_DOWN),
    }).start()
    yield worker
    worker.stop()


def _queue_batch(start: int, n: int) -> list[int]:
    with transaction.atomic():
        return [message_queue(channel=Channel.SMS, recipient=f"137{i:08d}", template="verification_code",
                              params={"code": f"{i:06d}", "minutes": 10}, idempotency_key=f"worker-failover:{i}").pk
                for i in range(start, start + n)]


def _sent(ids: list[int]) -> list[Message]:
    rows = list(Message.objects.filter(pk__in=ids, state=MessageState.SENT).order_by("id"))
    return rows if len(rows) == len(ids) else []


def test_primary_down_then_back_with_a_real_worker(failover_worker, tencent, alibaba):
    port = tencent.port
    tencent.stop()  # Tencent down: connections refused

    down_ids = _queue_batch(1, 6)
    down = wait_for(lambda: _sent(down_ids), timeout=60)
    assert [m.sms_provider for m in down] == ["alibaba"] * 6

    back = FakeTencentSms(port=port).start()  # Tencent back on the same address
    try:
        time.sleep(COOL_DOWN + 0.2)
        up_ids = _queue_batch(7, 6)
        up = wait_for(lambda: _sent(up_ids), timeout=60)
        assert [m.sms_provider for m in up] == ["tencent"] * 6
        assert all(m.provider_id.startswith("tencent:") for m in up)
    finally:
        back.stop()

    via_alibaba = {m["OutId"] for m in alibaba.sent}
    via_tencent = back.session_contexts()
    assert via_alibaba == {f"worker-failover:{i}" for i in range(1, 7)}
    assert via_tencent == {f"worker-failover:{i}" for i in range(7, 13)}
    assert not via_alibaba & via_tencent  # never sent by both
    assert len(alibaba.sent) == 6 and len(back.sent) == 6  # and never twice by one

    rows = {r["name"]: r for r in health.recent(["tencent", "alibaba"])}
    audited = list(AuditEvent.objects.filter(target_type="sms_provider").values_list("action", "target_id"))
    print(f"\nfailover counts: alibaba took {rows['alibaba']['failover']} messages by failover "
          f"(ok {rows['alibaba']['ok']}), tencent ok {rows['tencent']['ok']} fail {rows['tencent']['fail']} "
          f"(success rate {rows['tencent']['success_rate']} %); audited {audited}")
    assert rows["alibaba"]["failover"] == 6 and rows["alibaba"]["ok"] == 6
    assert rows["tencent"]["ok"] == 6 and rows["tencent"]["fail"] == 2
    assert ("sms_provider.tripped", "tencent") in audited and ("sms_provider.recovered", "tencent") in audited
    assert audited.count(("sms_provider.failover", "alibaba")) == 2  # the two that met a refused connection


def test_timeouts_open_the_breaker_and_the_unsure_messages_stay_with_their_provider(failover_worker, tencent, alibaba):
    """Tencent takes each message and then never answers (the worker times out after 1 s):
    the two messages that met it stay Tencent's and are confirmed by its receipts, never
    handed to Alibaba; the two timeouts open the breaker and the rest go to Alibaba."""
    tencent.hang_seconds, tencent.record_then_hang = 3.0, True
    ids = _queue_batch(1, 5)
    sent = wait_for(lambda: _sent(ids), timeout=60)
    by_provider = {m.idempotency_key: (m.sms_provider, m.provider_id.split(":")[1] if ":" in m.provider_id else "") for m in sent}
    assert [by_provider[f"worker-failover:{i}"] for i in (1, 2)] == [("tencent", "confirmed")] * 2
    assert [by_provider[f"worker-failover:{i}"][0] for i in (3, 4, 5)] == ["alibaba"] * 3
    assert tencent.session_contexts() == {"worker-failover:1", "worker-failover:2"} and len(tencent.sent) == 2
    assert {m["OutId"] for m in alibaba.sent} == {f"worker-failover:{i}" for i in (3, 4, 5)} and len(alibaba.sent) == 3
    assert Message.objects.get(idempotency_key="worker-failover:1").attempts == 2  # timed out, then confirmed
