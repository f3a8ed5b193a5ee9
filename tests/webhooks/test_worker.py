"""Done means: a decision reaches a flaky receiver exactly once.

A real Celery worker (its own queue and broker prefix, short limits) delivers through the
outbox to loopback receivers that check every signature and answer, on purpose, 500s, a
timeout, slow answers and an answer that comes too late; then a worker is SIGKILLed mid-send.
Every event is processed once it recovers, none twice, and no delivery follows a 2xx.
"""

import time

import pytest

from appeals.core.services import appeals as svc
from appeals.notifications.models import Message, MessageChannel, MessageState
from appeals.notifications.tasks import outbox_sweep
from appeals.webhooks.models import WebhookDelivery, WebhookEvent
from appeals.webhooks.selectors import webhook_figures
from tests import factories
from tests.conftest import wait_for
from tests.verification.workers import Worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

# The receiver's timeout step holds the request past WEBHOOKS_READ_TIMEOUT; its slow steps stay within it.
WORKER_ENV = {
    "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true",
    "WEBHOOKS_CONNECT_TIMEOUT": "1",
    "WEBHOOKS_READ_TIMEOUT": "1.5",
    "NOTIFICATIONS_BACKOFF_MAX": "2",
}


@pytest.fixture
def webhook_workers(queue, broker_prefix, loopback_webhooks):
    started = []

    def start(tag="w", **env):
        worker = Worker(queue=queue, tag=f"webhooks-{tag}",
                        extra_env={"CELERY_BROKER_KEYPREFIX": broker_prefix, **WORKER_ENV, **env}).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _webhook_messages():
    return Message.objects.filter(channel=MessageChannel.WEBHOOK)


def _all_sent(expected: int):
    return lambda: _webhook_messages().filter(state=MessageState.SENT).count() == expected


def test_a_decision_reaches_a_flaky_receiver_exactly_once(
        webhook_workers, endpoint_for, second_review_appeal, second_reviewer, enterprise_admin, enterprise, manager,
        intake_guards_off, capsys):
    flaky = [("status", 500), ("status", 500), ("timeout", 2.5), ("status", 503), ("slow", 0.5), ("status", 502),
             ("slow", 0.3)]
    endpoint, receiver = endpoint_for(enterprise_admin, script=flaky)
    # The platform's receiver processes the first request and answers too late: it comes again.
    platform, late = endpoint_for(manager, platform=True, script=[("late_ack", 2.5), ("status", 500)])
    webhook_workers("flaky")

    appeal = svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="reject", comment="Spam confirmed.",
                                      outcome_code="refused_violation_confirmed")
    for _ in range(3):
        draft = factories.AppealFactory(incident__account__enterprise=enterprise, filed_by=enterprise_admin)
        svc.appeal_submit(appeal=draft, by=enterprise_admin)
    events = {e.webhook_id: e for e in WebhookEvent.objects.all()}
    assert len(events) == 4
    wait_for(_all_sent(8), timeout=90, interval=0.2)

    decided = next(e for e in events.values() if e.type == "appeal.decided")
    for r in (receiver, late):
        assert r.invalid == 0 and all(req["valid"] for req in r.requests)
        assert set(r.processed) == set(events)  # every event, once it recovered
        assert set(r.process_count.values()) == {1}  # none processed twice
        assert sum(r.after_ack.values()) == 0  # nothing sent again after a 2xx it saw
        assert r.processed[decided.webhook_id]["data"]["decision"]["outcome_code"] == "refused_violation_confirmed"
    assert receiver.script == [] and late.script == []
    for ep in (endpoint, platform):
        delivered = WebhookDelivery.objects.filter(endpoint=ep, outcome="delivered")
        assert sorted(delivered.values_list("event__webhook_id", flat=True)) == sorted(events)
    figures = webhook_figures()
    assert figures["deliveries"] == 8 and figures["duplicates"] == 0
    # Every scripted failure was retried: 7 on the flaky receiver (the 5 failures) and 2 on the late one.
    assert figures["retries"] == 5 + 2 and figures["failed_attempts"] == 5 + 2
    assert len(late.requests) == 6  # 4 events, the late answer and the 500 each came again once
    with capsys.disabled():
        print(f"\nwebhooks flaky receiver: events={len(events)} endpoints=2 deliveries={figures['deliveries']} "
              f"retries={figures['retries']} duplicates={figures['duplicates']} "
              f"requests={len(receiver.requests) + len(late.requests)} processed_twice=0")


def test_a_worker_killed_mid_send_delivers_once_under_the_same_id(
        webhook_workers, queue, endpoint_for, enterprise_admin, enterprise, intake_guards_off, capsys):
    # The receiver processes the event and holds its answer; the worker is killed meanwhile.
    endpoint, receiver = endpoint_for(enterprise_admin, script=[("late_ack", 3.0)])
    first = webhook_workers("kill-a", WEBHOOKS_READ_TIMEOUT="2.5")
    draft = factories.AppealFactory(incident__account__enterprise=enterprise, filed_by=enterprise_admin)
    svc.appeal_submit(appeal=draft, by=enterprise_admin)
    message = _webhook_messages().get()
    wait_for(lambda: len(receiver.requests) == 1, timeout=30, interval=0.02)
    first.kill()
    message.refresh_from_db()
    assert message.state == MessageState.SENDING

    webhook_workers("kill-b")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _all_sent(1)():
        outbox_sweep.apply_async(queue=queue)  # what beat does every minute
        time.sleep(1.0)
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 2
    event = WebhookEvent.objects.get()
    assert [r["id"] for r in receiver.requests] == [event.webhook_id] * 2  # sent again, same id
    assert receiver.process_count[event.webhook_id] == 1  # and processed once
    assert list(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("attempt", "outcome")) == [(2, "delivered")]
    with capsys.disabled():
        print(f"\nwebhooks worker killed mid-send: requests={len(receiver.requests)} processed=1 "
              f"duplicates={webhook_figures()['duplicates']}")
