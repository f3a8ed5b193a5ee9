"""Managers are told once, through the outbox: a real SMTP server on loopback, and a real Celery worker."""

import pytest
from django.conf import settings as django_settings

from appeals.models import MessageState, SurgeAlert
from appeals.notifications import sms
from appeals.notifications.outbox import message_deliver
from appeals.notifications.tasks import deliver_message
from appeals.surge import services as surge
from appeals.surge.selectors import surge_alert_messages
from appeals.surge.tasks import surge_notify
from tests.conftest import ROOT, wait_for
from tests.smtp import LoopbackSMTP
from tests.surge.conftest import NOW


def open_alert(now=NOW):
    verdict = surge.surge_rule(count=42, history=[3, 4, 5, 6, 2, 9, 5], floor=10, factor=3.0)
    return surge.surge_alert_open(slice_=("platform", "wecom"), verdict=verdict, policy=surge.surge_policy(), now=now)


@pytest.fixture
def mail_server(settings):
    server = LoopbackSMTP()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    yield server
    server.stop()


def _deliver_all(alert):
    for message in surge_alert_messages(alert):
        message_deliver(message_id=message.pk)


@pytest.mark.django_db
def test_opening_an_alert_queues_one_outbox_message_per_manager_and_channel(managers, settings):
    settings.LANGUAGE_CODE = "en"
    alert = open_alert()
    surge.surge_notify_managers(alert=alert)  # again (a task of the previous version): nothing more
    rows = surge_alert_messages(alert)
    assert sorted(rows.values_list("idempotency_key", "channel", "recipient", "state")) == sorted([
        (f"surge:{alert.pk}:email:{managers[0].pk}", "email", "manager@desk.example", "queued"),
        (f"surge:{alert.pk}:sms:{managers[0].pk}", "sms", "13900000001", "queued"),
        (f"surge:{alert.pk}:email:{managers[1].pk}", "email", "manager2@desk.example", "queued"),
        (f"surge:{alert.pk}:sms:{managers[1].pk}", "sms", "13900000002", "queued"),
    ])


@pytest.mark.django_db
def test_email_goes_to_each_manager_once_even_when_delivery_runs_again(mail_server, managers, settings):
    settings.LANGUAGE_CODE = "en"
    alert = open_alert()
    _deliver_all(alert)
    _deliver_all(alert)  # a redelivered delivery task

    assert sorted(rcpt for m in mail_server.messages for rcpt in m["rcpt"]) == ["manager2@desk.example", "manager@desk.example"]
    message = mail_server.messages[0]["message"]
    assert message["Subject"] == "Surge: appeal volume jumped (Platform: WeCom)"
    assert message["X-Appeal-Desk-Topic"] == f"surge_alert:{alert.pk}"
    body = message.get_content()
    assert "42 appeals in 10 minutes" in body and "usual level 5" in body and "8.4 times the usual level" in body
    assert f"/surge/{alert.pk}/" in body and "400-999-0000" in body
    rows = surge_alert_messages(alert).filter(channel="email")
    assert sorted(rows.values_list("channel", "state", "attempts")) == [("email", "sent", 1)] * 2


@pytest.mark.django_db
def test_email_in_chinese(mail_server, managers, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    alert = open_alert()
    _deliver_all(alert)
    message = mail_server.messages[0]["message"]
    assert message["Subject"].startswith("申诉激增：")
    assert "42 件申诉" in message.get_content() and "为平常的 8.4 倍" in message.get_content()


@pytest.mark.django_db
def test_failed_send_is_retried_by_the_outbox_and_then_sent_once(mail_server, managers, settings):
    alert = open_alert()
    good_port = settings.EMAIL_PORT
    dead = LoopbackSMTP()
    dead.stop()  # its port is now closed: the SMTP connection is refused
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = dead.port, 2
    _deliver_all(alert)
    emails = surge_alert_messages(alert).filter(channel="email")
    assert set(emails.values_list("state", flat=True)) == {MessageState.QUEUED}  # back-off, not lost
    assert all(m.next_attempt_at and m.reason for m in emails)
    settings.EMAIL_PORT = good_port
    emails.update(next_attempt_at=None)  # the back-off has elapsed
    _deliver_all(alert)
    assert len(mail_server.messages) == 2
    assert sorted(emails.values_list("state", "attempts")) == [("sent", 2)] * 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_notifies_once_per_manager_and_redelivery_sends_nothing(celery_worker, smtp_server, managers):
    smtp_server.messages.clear()
    alert = open_alert()  # commits: the outbox rows' deliveries go to the broker
    assert alert is not None
    rows = surge_alert_messages(alert)
    wait_for(lambda: rows.filter(state=MessageState.SENT).count() == 4, timeout=30)

    # The previous version's task and the delivery tasks, delivered twice more.
    again = [surge_notify.delay(alert.pk) for _ in range(2)] + [deliver_message.delay(m.pk) for m in rows for _ in range(2)]
    log = ROOT / f".celery-worker-{django_settings.DATABASES['default']['NAME']}.log"
    wait_for(lambda: all(f"[{r.id}] succeeded" in log.read_text() for r in again), timeout=30)

    assert sorted(rows.values_list("channel", "recipient", "state", "attempts")) == [
        ("email", "manager2@desk.example", "sent", 1),
        ("email", "manager@desk.example", "sent", 1),
        ("sms", "13900000001", "sent", 1),
        ("sms", "13900000002", "sent", 1),
    ]
    surge_mails = [m for m in smtp_server.messages if m["message"]["X-Appeal-Desk-Topic"] == f"surge_alert:{alert.pk}"]
    assert len(surge_mails) == 2
    assert SurgeAlert.objects.get(pk=alert.pk).state == "open"


@pytest.mark.django_db  # no commit: nothing reaches a worker, delivery runs here in-process
def test_sms_goes_through_the_outbox_once_per_manager(managers, settings):
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.locmem.SmsBackend"
    settings.LANGUAGE_CODE = "en"
    sms.outbox.clear()
    alert = open_alert()
    queued = list(surge_alert_messages(alert).filter(channel="sms").order_by("recipient"))
    assert [m.recipient for m in queued] == ["13900000001", "13900000002"]
    for message in queued:
        message_deliver(message_id=message.pk)
        message_deliver(message_id=message.pk)  # a redelivered delivery task sends nothing more
    assert sorted(m.phone for m in sms.outbox) == ["13900000001", "13900000002"]
    assert sms.outbox[0].params == {"slice": "Platform: WeCom", "count": "42", "window": "10", "usual": "5"}
    assert surge_alert_messages(alert).filter(channel="sms", state="sent").count() == 2
    sms.outbox.clear()


@pytest.mark.django_db
def test_the_alert_page_and_api_show_who_was_notified_and_the_delivery_state(client, managers, mail_server, settings):
    from rest_framework.test import APIClient

    settings.LANGUAGE_CODE = "en"
    alert = open_alert()
    email = surge_alert_messages(alert).get(channel="email", recipient="manager@desk.example")
    message_deliver(message_id=email.pk)
    api = APIClient()
    api.force_authenticate(managers[0])
    shown = {(n["channel"], n["recipient"]): n for n in api.get(f"/api/v1/surge/alerts/{alert.pk}/").json()["notifications"]}
    assert {k: v["status"] for k, v in shown.items()} == {
        ("email", "manager@desk.example"): "sent", ("email", "manager2@desk.example"): "queued",
        ("sms", "13900000001"): "queued", ("sms", "13900000002"): "queued",
    }
    assert shown[("email", "manager@desk.example")]["attempts"] == 1 and shown[("email", "manager@desk.example")]["sent_at"]

    client.force_login(managers[0])
    page = client.get(f"/surge/{alert.pk}/").content.decode()
    assert "manager@desk.example: Sent" in page and "13900000002: Queued" in page
