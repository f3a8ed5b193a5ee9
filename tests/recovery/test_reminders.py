"""After a restoring decision, the end of a rest period is reminded once, by email and SMS,
through the outbox; the beat scan is idempotent per step."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from celery import current_app
from django.core import mail
from django.utils import timezone

from appeals.audit.models import AuditEvent
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_deliver
from appeals.recovery.models import RecoveryStep
from appeals.recovery.tasks import recovery_reminders
from appeals.shared import registry
from tests.recovery.conftest import reject

pytestmark = pytest.mark.django_db


def at(day, hour=9):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def reminders():
    return Message.objects.filter(topic="recovery_step")


def test_the_reminder_is_queued_once_when_the_pause_ends(restored_appeal):
    pause = RecoveryStep.objects.get(plan__appeal=restored_appeal, remind_at_end=True)
    assert pause.ends_on == timezone.localdate(restored_appeal.decided_at) + timedelta(days=7)

    with time_machine.travel(at(pause.ends_on - timedelta(days=1), 23), tick=False):
        assert recovery_reminders() == 0
    assert not reminders().exists()

    with time_machine.travel(at(pause.ends_on, 8), tick=False):
        assert recovery_reminders() == 1
        assert recovery_reminders() == 0  # the next beat finds nothing to do
    with time_machine.travel(at(pause.ends_on + timedelta(days=3)), tick=False):
        assert recovery_reminders() == 0

    sent = {m.channel: m for m in reminders()}
    assert set(sent) == {Channel.EMAIL, Channel.SMS}
    assert sent[Channel.EMAIL].recipient == restored_appeal.enterprise.admin_email
    assert sent[Channel.SMS].recipient == "13812345678"
    assert sent[Channel.EMAIL].idempotency_key == f"recovery-step:{pause.pk}:end:email"
    assert all(m.topic_id == pause.pk and m.appeal_id == restored_appeal.pk for m in sent.values())
    pause.refresh_from_db()
    assert pause.reminded_at is not None
    event = AuditEvent.objects.get(action="recovery.reminder_queued")
    assert event.after["step"] == pause.pk and event.enterprise_id == restored_appeal.enterprise_id

    # Delivered through the outbox like every message, in the admin's language.
    mail.outbox.clear()
    message_deliver(message_id=sent[Channel.EMAIL].pk)
    [email] = mail.outbox
    title = pause.title_zh if sent[Channel.EMAIL].language.startswith("zh") else pause.title_en
    assert title in email.subject and pause.ends_on.isoformat() in email.body
    assert restored_appeal.reference in email.body


def test_a_refused_appeal_gets_no_reminder(restricted_submitted, first_reviewer, second_reviewer):
    appeal = reject(restricted_submitted, first_reviewer, second_reviewer)
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert recovery_reminders() == 0
    assert not reminders().exists()
    assert not RecoveryStep.objects.filter(plan__appeal=appeal, reminded_at__isnull=False).exists()


def test_the_reminder_scan_is_a_beat_entry_and_a_registered_task():
    assert registry.beat_schedule()["recovery-reminders"]["task"] == "appeals.tasks.recovery_reminders"
    assert "appeals.tasks.recovery_reminders" in current_app.tasks
