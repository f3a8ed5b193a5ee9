"""Managers are told once: a real SMTP server on loopback, and a real Celery worker."""

import pytest
from django.conf import settings as django_settings

from appeals.models import NotificationStatus, SurgeAlert, SurgeNotification
from appeals.surge import services as surge
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


@pytest.mark.django_db
def test_email_goes_to_each_manager_once_even_when_the_task_runs_again(mail_server, managers, settings):
    settings.LANGUAGE_CODE = "en"
    alert = open_alert()
    surge.surge_notify_managers(alert_id=alert.pk)
    surge.surge_notify_managers(alert_id=alert.pk)  # a redelivered task

    assert sorted(rcpt for m in mail_server.messages for rcpt in m["rcpt"]) == ["manager2@desk.example", "manager@desk.example"]
    message = mail_server.messages[0]["message"]
    assert message["Subject"] == "Surge: appeal volume jumped (Platform: WeCom)"
    assert message["X-Surge-Alert"] == str(alert.pk)
    body = message.get_content()
    assert "42 appeals in 10 minutes" in body and "usual level 5" in body and "8.4 times the usual level" in body
    assert f"/surge/{alert.pk}/" in body and "400-999-0000" in body
    rows = SurgeNotification.objects.filter(alert=alert, channel="email")
    assert sorted(rows.values_list("channel", "status", "attempts")) == [("email", "sent", 1)] * 2


@pytest.mark.django_db
def test_failed_send_is_retried_and_then_sent_once(mail_server, managers, settings):
    alert = open_alert()
    good_port = settings.EMAIL_PORT
    dead = LoopbackSMTP()
    dead.stop()  # its port is now closed: the SMTP connection is refused
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = dead.port, 2
    with pytest.raises(surge.SurgeDeliveryError):
        surge.surge_notify_managers(alert_id=alert.pk)
    assert set(SurgeNotification.objects.filter(channel="email").values_list("status", flat=True)) == {NotificationStatus.FAILED}
    settings.EMAIL_PORT = good_port
    surge.surge_notify_managers(alert_id=alert.pk)
    assert len(mail_server.messages) == 2
    assert sorted(SurgeNotification.objects.filter(channel="email").values_list("status", "attempts")) == [("sent", 2)] * 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_notifies_once_per_manager_and_redelivery_sends_nothing(celery_worker, managers):
    alert = open_alert()  # commits: the notification task goes to the broker
    assert alert is not None
    wait_for(lambda: SurgeNotification.objects.filter(alert=alert, status=NotificationStatus.SENT).count() == 4, timeout=30)

    log = ROOT / f".celery-worker-{django_settings.DATABASES['default']['NAME']}.log"
    again = [surge_notify.delay(alert.pk) for _ in range(2)]  # the same task delivered twice more
    wait_for(lambda: all(f"surge_notify[{r.id}] succeeded" in log.read_text() for r in again), timeout=30)

    rows = SurgeNotification.objects.filter(alert=alert)
    assert sorted(rows.values_list("channel", "recipient", "status", "attempts")) == [
        ("email", "manager2@desk.example", "sent", 1),
        ("email", "manager@desk.example", "sent", 1),
        ("sms", "13900000001", "sent", 1),
        ("sms", "13900000002", "sent", 1),
    ]
    from appeals.models import Message

    assert Message.objects.filter(template="surge_alert").count() == 2  # one outbox SMS per manager
    assert SurgeAlert.objects.get(pk=alert.pk).state == "open"


@pytest.mark.django_db  # no commit: nothing reaches a worker, delivery runs here in-process
def test_sms_goes_through_the_sms_outbox_once_per_manager(managers, settings):
    """The real SMS path: outbox rows under idempotency keys, delivered by the locmem backend."""
    from appeals.models import Message
    from appeals.notifications import sms
    from appeals.notifications.outbox import message_deliver

    settings.SMS_BACKEND = "appeals.notifications.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    alert = open_alert()
    surge.surge_notify_managers(alert_id=alert.pk)
    surge.surge_notify_managers(alert_id=alert.pk)  # a redelivered task
    queued = list(Message.objects.filter(template="surge_alert").order_by("recipient"))
    assert [m.recipient for m in queued] == ["13900000001", "13900000002"]
    for message in queued:
        message_deliver(message_id=message.pk)
        message_deliver(message_id=message.pk)  # a redelivered delivery task sends nothing more
    assert sorted(m.phone for m in sms.outbox) == ["13900000001", "13900000002"]
    assert sms.outbox[0].params == {"slice": "Platform: WeCom", "count": "42", "window": "10", "usual": "5"}
    assert SurgeNotification.objects.filter(alert=alert, channel="sms", status="sent").count() == 2
    sms.outbox.clear()

