"""Warnings at 80% and breach notices, sent by a real Celery worker to a real SMTP server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.core.services import appeals as svc
from appeals.models import Message, SlaNotification
from appeals.sla.tasks import sla_scan
from tests import factories
from tests.conftest import wait_for
from tests.sla.conftest import act, file_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _drain():
    """Wait until the worker has taken every queued task and finished all of them."""
    from django.conf import settings
    from redis import Redis

    from config.celery import app

    broker = Redis.from_url(settings.CELERY_BROKER_URL)
    wait_for(lambda: broker.llen("celery") == 0, timeout=30)
    wait_for(lambda: not any((app.control.inspect(timeout=1).active() or {"": [1]}).values()), timeout=30)


def _sla_mails(smtp_server):
    """SLA notices only: the same server also receives the applicant's state-change emails."""
    return [m for m in smtp_server.messages if m["message"]["Subject"].startswith("[SLA ")]


def _mails_to(smtp_server, address):
    return [m for m in _sla_mails(smtp_server) if address in m["rcpt"]]


def test_warning_to_the_reviewer_and_breach_to_managers_once_per_stage(
    celery_worker, smtp_server, enterprise, enterprise_admin, first_reviewer, second_reviewer, manager
):
    smtp_server.messages.clear()
    now = timezone.now()
    # Minor (24 h) entered review 20 h ago and claimed: past 80% (19.2 h), not yet due.
    warned = file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity="minor",
                       when=now - timedelta(hours=20))
    act(now - timedelta(hours=19), svc.appeal_claim, appeal=warned, by=first_reviewer)
    # Medium (48 h) entered review 50 h ago: breached.
    breached = file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity="medium",
                         when=now - timedelta(hours=50))
    # Medium entered review 10 h ago: nothing to say yet.
    file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity="medium",
              when=now - timedelta(hours=10))

    sla_scan.delay()
    sla_messages = Message.objects.filter(topic=SlaNotification.TOPIC)
    wait_for(lambda: sla_messages.filter(state="sent").count() == 2, timeout=30)
    wait_for(lambda: len(_sla_mails(smtp_server)) == 2)
    warning = _mails_to(smtp_server, "reviewer-1@example.com")
    assert len(warning) == 1
    assert warning[0]["message"]["Subject"].startswith(f"[SLA warning] {warned.reference}")
    assert "80%" in warning[0]["message"].get_content()
    breach = _mails_to(smtp_server, "manager@example.com")
    assert len(breach) == 1 and breach[0]["message"]["Subject"].startswith(f"[SLA breach] {breached.reference}")
    assert {(n.appeal_id, n.stage, n.kind) for n in SlaNotification.objects.all()} == {
        (warned.pk, "first_review", "warning"), (breached.pk, "first_review", "breach"),
    }

    # The next scans find nothing new: each notice goes once per case and stage.
    sla_scan.delay()
    sla_scan.delay()
    _drain()
    assert len(_sla_mails(smtp_server)) == 2 and SlaNotification.objects.count() == 2 and sla_messages.count() == 2

    # The warned case moves on to second review: its new assignee is warned for the new stage.
    svc.appeal_first_review(appeal=warned, by=first_reviewer, decision="approve")
    svc.appeal_claim(appeal=warned, by=second_reviewer)
    sla_scan.delay()
    wait_for(lambda: _mails_to(smtp_server, "reviewer-2@example.com"), timeout=30)
    notice = SlaNotification.objects.get(appeal=warned, stage="second_review", kind="warning")
    wait_for(lambda: sla_messages.filter(topic_id=notice.pk, state="sent").exists(), timeout=30)
    assert sla_messages.get(topic_id=notice.pk).idempotency_key == f"sla:{warned.pk}:second_review:warning:reviewer-2@example.com"
    assert len(_sla_mails(smtp_server)) == 3


def test_a_notice_is_sent_once_even_if_the_previous_versions_task_is_delivered_twice(
    celery_worker, smtp_server, enterprise, enterprise_admin, manager
):
    from appeals.sla.tasks import send_sla_notification

    smtp_server.messages.clear()
    now = timezone.now()
    case = file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity="minor",
                     when=now - timedelta(hours=30))
    notice = SlaNotification.objects.create(appeal=case, stage="first_review", kind="breach", recipients=["manager@example.com"])
    send_sla_notification.delay(notice.pk)  # queued by the previous version: handed to the outbox
    send_sla_notification.delay(notice.pk)
    wait_for(lambda: Message.objects.filter(topic=SlaNotification.TOPIC, topic_id=notice.pk, state="sent").exists(), timeout=30)
    _drain()
    assert len(_mails_to(smtp_server, "manager@example.com")) == 1
    assert Message.objects.filter(topic=SlaNotification.TOPIC).count() == 1
