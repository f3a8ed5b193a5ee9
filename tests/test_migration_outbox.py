"""Migration 0011 moves the SLA and surge notices into the outbox with their delivery state."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from appeals.models import Message, SlaNotification, SurgeAlert
from tests import factories
from tests.sla.conftest import file_case

pytestmark = [pytest.mark.django_db(transaction=True)]

BEFORE = ("appeals", "0010_message_topic_index")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("appeals")[0]


def test_sla_and_surge_notice_rows_become_outbox_messages(enterprise, enterprise_admin):
    manager = factories.UserFactory(username="boss", is_manager=True, is_staff=True, email="boss@desk.example", phone="13900000009")
    case = file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=enterprise), severity="minor",
                     when=timezone.now() - timedelta(hours=30))
    now = timezone.now()
    alert = SurgeAlert.objects.create(dimension="platform", value="wecom", window_minutes=10, window_start=now, count=42, usual=5,
                                      ratio=8.4, floor=20, factor=3.0, opened_at=now)
    try:
        old = _migrate(BEFORE)
        OldSla, OldSurge, OldMessage = (old.get_model("appeals", n) for n in ("SlaNotification", "SurgeNotification", "Message"))
        sent = OldSla.objects.create(appeal_id=case.pk, stage="first_review", kind="breach", state="sent", sent_at=now,
                                     recipients=["boss@desk.example", "other@desk.example"])
        OldSla.objects.create(appeal_id=case.pk, stage="first_review", kind="warning", state="failed", error="550 no such user",
                              recipients=["r1@desk.example"])
        OldSurge.objects.create(alert_id=alert.pk, channel="email", recipient="boss@desk.example", status="sending", attempts=1)
        OldSurge.objects.create(alert_id=alert.pk, channel="sms", recipient="13900000009", status="sent", attempts=1, sent_at=now)
        old_sms = OldMessage.objects.create(idempotency_key=f"surge-{alert.pk}-sms-{manager.pk}", channel="sms",
                                            recipient="13900000009", template="surge_alert", state="sent", attempts=1)
    finally:
        _migrate(_latest())

    sla = Message.objects.filter(topic=SlaNotification.TOPIC).order_by("recipient")
    assert [(m.recipient, m.template, m.state, m.topic_id) for m in sla] == [
        ("boss@desk.example", "sla_breach", "sent", sent.pk),
        ("other@desk.example", "sla_breach", "sent", sent.pk),
        ("r1@desk.example", "sla_warning", "failed", sla.get(recipient="r1@desk.example").topic_id),
    ]
    assert sla.get(recipient="r1@desk.example").reason == "550 no such user"
    assert sla.get(recipient="boss@desk.example").idempotency_key == f"sla:{case.pk}:first_review:breach:boss@desk.example"
    assert SlaNotification.objects.count() == 2  # the decisions stay

    surge = {m.channel: m for m in Message.objects.filter(topic=SurgeAlert.TOPIC, topic_id=alert.pk)}
    assert set(surge) == {"email", "sms"} and Message.objects.filter(template="surge_alert").count() == 2
    # A send caught mid-flight stays claimed: the outbox's dead-worker recovery decides it.
    assert (surge["email"].state, surge["email"].claimed_at is not None) == ("sending", True)
    assert surge["email"].idempotency_key == f"surge:{alert.pk}:email:{manager.pk}"
    # The SMS that was already an outbox row is linked (and re-keyed), not copied.
    assert surge["sms"].pk == old_sms.pk and surge["sms"].idempotency_key == f"surge:{alert.pk}:sms:{manager.pk}"
