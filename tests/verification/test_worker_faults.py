"""Nothing lost, nothing doubled: broker down at submit, worker SIGKILLed mid-send.

Real Redis, real worker processes, the Alibaba adapter talking to the local provider, and
email through a local relay the outbox can ask about a send its dead worker left unsure
(NOTIFICATIONS["EMAIL_LOOKUP"]). Every kind of message is covered: verification codes and
links, SLA notices (queued by the real sla_scan), surge alerts (queued by opening an alert).
"""

import contextlib
import socket
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from appeals.core.services import appeals as appeal_services
from appeals.models import Appeal, AppealState, Channel, Message, MessageState, SlaNotification
from appeals.notifications.outbox import send_sms
from appeals.sla import notices as sla_notices
from appeals.surge import services as surge_services
from appeals.surge.selectors import surge_alert_messages
from tests import builders, factories
from tests.conftest import wait_for
from tests.sla.conftest import file_case

from .servers import FakeAlibabaSms, LoopbackMailRelay
from .workers import Worker, reset_broker_pools

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def provider():
    server = FakeAlibabaSms().start()
    yield server
    server.stop()


@pytest.fixture
def relay():
    server = LoopbackMailRelay().start()
    yield server
    server.stop()


@pytest.fixture
def workers(provider, relay, queue, broker_prefix):
    started = []

    def start(tag="w", *, email_lookup=True):
        worker = Worker(queue=queue, tag=tag, extra_env={
            "SMS_BACKEND": "appeals.notifications.sms.backends.alibaba.SmsBackend",
            "ALIBABA_SMS_ENDPOINT": provider.endpoint,
            "ALIBABA_SMS_ACCESS_KEY_ID": provider.KEY_ID,
            "ALIBABA_SMS_ACCESS_KEY_SECRET": provider.SECRET,
            "CELERY_BROKER_KEYPREFIX": broker_prefix,
            "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(relay.smtp.port),
            "NOTIFICATIONS_EMAIL_LOOKUP": "tests.verification.servers.relay_lookup" if email_lookup else "",
            "TEST_MAIL_RELAY_LOOKUP_URL": relay.lookup_url,
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
    reset_broker_pools()
    app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    try:
        yield
    finally:
        reset_broker_pools()
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


# --- every kind of message: verification, SLA, surge ----------------------------------------------

# Per kind: in turn killed while the provider holds its answer and right after the claim, on
# each channel the kind uses (SMS through the Alibaba adapter, email through the relay).
KIND_TRIALS = 4


@contextlib.contextmanager
def parked(settings):
    """Messages queued inside go to a queue no worker reads (the setup's own mail is not the
    message under test); they are settled afterwards so the sweeper leaves them alone."""
    before = set(Message.objects.values_list("pk", flat=True))
    queue = settings.NOTIFICATIONS["QUEUE"]
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": f"{queue}-parked"}
    try:
        yield
    finally:
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": queue}
        Message.objects.exclude(pk__in=before).update(state=MessageState.FAILED, reason="test setup, not under test")


def _verification_messages(ctx, trial):
    """Submitting an appeal (evidence complete) queues the SMS code and the email link."""
    incident = factories.IncidentFactory(account=factories.AccountFactory(enterprise=ctx["enterprise"]), created_by=ctx["admin"])
    case = appeal_services.appeal_create(by=ctx["admin"], incident=incident, statement="请求解封",
                                         contact_phone=f"1350000{trial:04d}")
    builders.attach_required_evidence(case, ctx["admin"])
    case = appeal_services.appeal_submit(appeal=case, by=ctx["admin"])
    return list(Message.objects.filter(appeal=case))


def _sla_messages(ctx, trial):
    """A case in review for 50 h of its 48 h: the real scan decides the breach notice."""
    settings = ctx["settings"]
    with parked(settings):  # its verification messages stay out of the workers' way
        case = file_case(admin=ctx["admin"], account=factories.AccountFactory(enterprise=ctx["enterprise"]), severity="medium",
                         when=timezone.now() - timedelta(hours=50))
    assert sla_notices.sla_scan() == {"warning": 0, "breach": 1}
    notice = SlaNotification.objects.get(appeal=case, kind="breach")
    return list(Message.objects.filter(topic=SlaNotification.TOPIC, topic_id=notice.pk))


def _surge_messages(ctx, trial):
    """Opening an alert (a slice of its own per trial) queues the manager's email and SMS."""
    verdict = surge_services.surge_rule(count=42, history=[5] * 7, floor=10, factor=3.0)
    alert = surge_services.surge_alert_open(slice_=("enterprise", str(990000 + trial)), verdict=verdict,
                                            policy=surge_services.surge_policy(), now=timezone.now())
    return list(surge_alert_messages(alert))


def _sends(message, provider, relay) -> int:
    return len(provider.sent_for(message.idempotency_key) if message.channel == Channel.SMS else relay.sent_for(message.idempotency_key))


def _kill_trial(*, workers, provider, relay, queue, tag, queue_messages, at_provider, target):
    """Kill the worker while it sends the trial's `target`-channel message, restart, count sends."""
    provider.received.clear()
    relay.received.clear()
    slow = provider if target == Channel.SMS else relay
    slow.delay_seconds = 3.0
    first = workers(f"{tag}a")
    messages = queue_messages()
    ids = [m.pk for m in messages]
    aimed = [m.pk for m in messages if m.channel == target]
    assert aimed, f"no {target} message was queued"
    if at_provider:
        # The provider has recorded the send and is slow to answer: kill during the call.
        assert slow.received.wait(20), "the worker never reached the provider"
        time.sleep(0.2)
    else:
        # Kill as soon as the claim is committed: before or during the provider call.
        wait_for(Message.objects.filter(pk__in=aimed, state=MessageState.SENDING).exists, timeout=20, interval=0.01)
    first.kill()
    at_kill = dict(Message.objects.filter(pk__in=ids).values_list("pk", "state"))
    slow.delay_seconds = 0.0

    second = workers(f"{tag}b")
    rows = Message.objects.filter(pk__in=ids)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and rows.exclude(state__in=[MessageState.SENT, MessageState.FAILED]).exists():
        _sweep_via_worker(queue)
        time.sleep(1.0)
    second.stop()  # the next trial's kill must hit the only worker on the queue
    return [{"channel": m.channel, "template": m.template, "at_kill": at_kill[m.pk], "final": m.state, "attempts": m.attempts,
             "sends": _sends(m, provider, relay), "reason": m.reason, "killed": m.pk in aimed} for m in rows.order_by("pk")]


def test_sigkill_mid_send_every_kind_exactly_once(workers, provider, relay, queue, settings, enterprise, enterprise_admin,
                                                  capsys):
    factories.UserFactory(username="boss", is_manager=True, is_staff=True, email="boss@desk.example", phone="13900000009")
    ctx = {"settings": settings, "admin": enterprise_admin, "enterprise": enterprise}
    # kind -> how its messages are queued, and the channels whose send the kill interrupts in turn
    kinds = {"verification": (_verification_messages, [Channel.SMS, Channel.EMAIL]), "sla": (_sla_messages, [Channel.EMAIL]),
             "surge": (_surge_messages, [Channel.SMS, Channel.EMAIL])}
    figures = {}
    details = []
    for kind, (make, targets) in kinds.items():
        for trial in range(KIND_TRIALS):
            outcome = _kill_trial(workers=workers, provider=provider, relay=relay, queue=queue, tag=f"{kind[:3]}{trial}",
                                  queue_messages=lambda make=make, trial=trial: make(ctx, trial), at_provider=trial % 2 == 0,
                                  target=targets[(trial // 2) % len(targets)])
            for o in outcome:
                label = f"{kind} {o['channel']}"
                f = figures.setdefault(label, {"messages": 0, "interrupted": 0, "lost": 0, "duplicated": 0, "not_sent": 0})
                f["messages"] += 1
                f["interrupted"] += o["killed"]
                f["lost"] += o["sends"] == 0
                f["duplicated"] += o["sends"] > 1
                f["not_sent"] += o["final"] != MessageState.SENT
                details.append({"kind": kind, "trial": trial, **o})
    with capsys.disabled():
        print(f"\nSIGKILL trials per kind: {KIND_TRIALS} (kinds: {', '.join(kinds)})")
        for label, f in figures.items():
            print(f"  {label}: messages {f['messages']} (send interrupted by the kill: {f['interrupted']}), lost {f['lost']}, "
                  f"duplicated {f['duplicated']}, not sent {f['not_sent']}")
        for d in details:
            print(f"    {d['kind']} trial {d['trial']} {d['channel']}/{d['template']}: at kill {d['at_kill']}, final {d['final']}, "
                  f"sends {d['sends']}, attempts {d['attempts']}, {d['reason'][:60]}")
    assert {"verification sms", "verification email", "sla email", "surge email", "surge sms"} <= set(figures)
    assert all(f["lost"] == 0 and f["duplicated"] == 0 and f["not_sent"] == 0 for f in figures.values()), figures


def test_sigkill_mid_email_without_a_lookup_is_never_doubled(workers, provider, relay, queue, settings, enterprise,
                                                             enterprise_admin, capsys):
    """The default configuration (plain SMTP, no NOTIFICATIONS_EMAIL_LOOKUP): an email whose
    worker died mid-send cannot be confirmed, so it is marked failed with the reason, never
    sent blind a second time. Killed right after the claim it may not have reached the relay:
    at most once, and visible, not exactly once."""
    factories.UserFactory(username="boss", is_manager=True, is_staff=True, email="boss@desk.example", phone="13900000009")
    ctx = {"settings": settings, "admin": enterprise_admin, "enterprise": enterprise}
    outcomes = []
    for trial, at_provider in enumerate((True, False)):
        relay.received.clear()
        relay.delay_seconds = 3.0
        first = workers(f"nl{trial}a", email_lookup=False)
        (message,) = _sla_messages(ctx, trial)
        if at_provider:
            assert relay.received.wait(20)
            time.sleep(0.2)
        else:
            wait_for(Message.objects.filter(pk=message.pk, state=MessageState.SENDING).exists, timeout=20, interval=0.01)
        first.kill()
        relay.delay_seconds = 0.0
        second = workers(f"nl{trial}b", email_lookup=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Message.objects.filter(pk=message.pk, state=MessageState.SENDING).exists():
            _sweep_via_worker(queue)
            time.sleep(1.0)
        second.stop()
        message.refresh_from_db()
        outcomes.append({"killed": "at the relay" if at_provider else "after the claim", "final": message.state,
                         "sends": len(relay.sent_for(message.idempotency_key)), "reason": message.reason})
    with capsys.disabled():
        print("\nSIGKILL mid-email without a look-up (plain SMTP):")
        for o in outcomes:
            print(f"  killed {o['killed']}: final {o['final']}, relay deliveries {o['sends']}, {o['reason'][:70]}")
    assert all(o["final"] == MessageState.FAILED and o["reason"] and o["sends"] <= 1 for o in outcomes), outcomes
