"""Nothing lost, nothing doubled: broker down at submit, worker SIGKILLed mid-send.

Real Redis, real worker processes, the Alibaba adapter talking to the local provider.
"""

import contextlib
import socket
import time

import pytest
from django.db import transaction

from appeals.core.services import appeals as appeal_services
from appeals.models import Appeal, AppealState, Channel, Message, MessageState
from appeals.notifications.outbox import send_sms
from tests.conftest import wait_for

from .servers import FakeAlibabaSms
from .workers import Worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def provider():
    server = FakeAlibabaSms().start()
    yield server
    server.stop()


def _reset_broker_pools():
    from kombu import pools

    from config.celery import app

    pools.reset()  # closes and forgets every pooled connection and producer
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_prefix(settings):
    """A private key prefix on the shared Redis for this test and its workers.

    The fault workers run with a 6 s visibility timeout; under their own prefix it can
    only ever restore their own unacknowledged messages, never another test's.
    """
    from config.celery import app

    prefix = f"faults-{settings.DATABASES['default']['NAME']}:"
    original = dict(app.conf.broker_transport_options or {})
    _reset_broker_pools()
    app.conf.broker_transport_options = {**original, "global_keyprefix": prefix}
    yield prefix
    _reset_broker_pools()
    app.conf.broker_transport_options = original


@pytest.fixture
def queue(settings, broker_prefix):
    name = f"notifications-faults-{settings.DATABASES['default']['NAME']}"
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": name}
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(name) if _queue_exists(conn, name) else None
    return name


def _queue_exists(conn, name) -> bool:
    try:
        conn.default_channel.queue_declare(name, passive=True)
        return True
    except Exception:
        return False


@pytest.fixture
def workers(provider, queue, broker_prefix):
    started = []

    def start(tag="w"):
        worker = Worker(queue=queue, tag=tag, extra_env={
            "SMS_BACKEND": "appeals.notifications.sms.backends.alibaba.SmsBackend",
            "ALIBABA_SMS_ENDPOINT": provider.endpoint,
            "ALIBABA_SMS_ACCESS_KEY_ID": provider.KEY_ID,
            "ALIBABA_SMS_ACCESS_KEY_SECRET": provider.SECRET,
            "CELERY_BROKER_KEYPREFIX": broker_prefix,
        }).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def broker_unreachable():
    """Point this process's Celery app at a port where nothing listens, then back."""
    from config.celery import app

    good = app.conf.broker_url
    _reset_broker_pools()
    app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    try:
        yield
    finally:
        _reset_broker_pools()
        app.conf.broker_url = good


def _sweep_via_worker(queue):
    """What beat does every minute: run the sweeper task, here on the fault worker's queue."""
    from appeals.notifications.tasks import outbox_sweep

    outbox_sweep.apply_async(queue=queue)


def test_broker_down_at_submit_then_sweeper_delivers(workers, provider, queue, enterprise_admin, complete_draft, enterprise):
    worker = workers("broker")
    with broker_unreachable():
        started = time.monotonic()
        appeal = appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
        submit_seconds = time.monotonic() - started
    # The appeal is saved and its messages wait in the outbox; nothing was published.
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.SUBMITTED
    rows = Message.objects.filter(appeal=appeal)
    assert sorted(rows.values_list("channel", "state")) == [("email", "queued"), ("sms", "queued")]
    assert submit_seconds < 5, "submit must not hang on an unreachable broker"
    time.sleep(1.5)
    assert provider.sent == [] and set(rows.values_list("state", flat=True)) == {MessageState.QUEUED}

    # Broker back: the sweeper (a beat task, run by the worker) publishes the stranded rows.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(rows.values_list("state", flat=True)) != {MessageState.SENT}:
        _sweep_via_worker(queue)
        time.sleep(1.0)
    assert set(rows.values_list("state", flat=True)) == {MessageState.SENT}
    sms_row = rows.get(channel=Channel.SMS)
    assert [s["PhoneNumbers"] for s in provider.sent_for(sms_row.idempotency_key)] == [enterprise.legal_rep_mobile]
    assert worker.proc.poll() is None


KILL_TRIALS = 6


def test_sigkill_mid_send_delivers_exactly_once(workers, provider, queue, capsys):
    """Kill the worker while the provider holds its answer (or right after the claim), restart, count sends."""
    outcomes = []
    for trial in range(KILL_TRIALS):
        provider.received.clear()
        provider.delay_seconds = 3.0
        first = workers(f"k{trial}a")
        with transaction.atomic():
            key = send_sms(phone="13800000000", template="surge_alert", params={"trial": trial},
                           idempotency_key=f"kill-trial:{trial}:{time.time_ns()}")
        row = Message.objects.get(idempotency_key=key)
        if trial % 2 == 0:
            # The provider has recorded the send and is slow to answer: kill during the HTTP call.
            assert provider.received.wait(20), "the worker never reached the provider"
            time.sleep(0.2)
        else:
            # Kill as soon as the claim is committed: before or during the HTTP request.
            claimed = Message.objects.filter(pk=row.pk, state=MessageState.SENDING)
            wait_for(claimed.exists, timeout=20, interval=0.01)
        first.kill()
        row.refresh_from_db()
        state_at_kill = row.state
        provider.delay_seconds = 0.0

        second = workers(f"k{trial}b")
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.state in (MessageState.SENT, MessageState.FAILED):
                break
            _sweep_via_worker(queue)
            time.sleep(1.0)
        sends = len(provider.sent_for(key))
        outcomes.append({"trial": trial, "state_at_kill": state_at_kill, "final": row.state, "sends": sends,
                         "attempts": row.attempts, "reason": row.reason})
        second.stop()  # the next trial's kill must hit the only worker on the queue

    duplicates = sum(1 for o in outcomes if o["sends"] > 1)
    missing = sum(1 for o in outcomes if o["sends"] == 0)
    with capsys.disabled():
        print(f"\nSIGKILL trials: {len(outcomes)}, duplicates: {duplicates}, missing: {missing}")
        for o in outcomes:
            print(f"  trial {o['trial']}: at kill {o['state_at_kill']}, final {o['final']}, provider sends {o['sends']}, "
                  f"attempts {o['attempts']}, {o['reason'][:70]}")
    assert all(o["final"] == MessageState.SENT for o in outcomes), outcomes
    assert duplicates == 0 and missing == 0, outcomes
