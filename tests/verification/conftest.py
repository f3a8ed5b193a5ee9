"""Fixtures for verification: in-process delivery with the locmem backends, real loopback servers."""

import re

import pytest
from django.core import mail

from appeals.core.services import appeals as appeal_services
from appeals.models import Message, MessageState
from appeals.notifications import sms
from appeals.notifications.outbox import message_deliver

from .servers import FakeAlibabaSms, LoopbackSMTP

LINK_RE = re.compile(r"https?://\S+/verify/email/(?P<token>[^/\s]+)/")


@pytest.fixture(autouse=True)
def verification_required(settings):
    """This suite is about the two proofs: the intake guard is on (test settings default it off)."""
    settings.VERIFICATION = {**settings.VERIFICATION, "REQUIRED": True}


@pytest.fixture(autouse=True)
def sms_outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def deliver_queued() -> list:
    """Run the delivery service in-process for every queued message (what a worker would do)."""
    results = []
    for pk in Message.objects.filter(state=MessageState.QUEUED).order_by("id").values_list("pk", flat=True):
        results.append(message_deliver(message_id=pk))
    return results


def last_code(phone: str | None = None) -> str:
    for message in reversed(sms.outbox):
        if phone is None or message.phone == phone:
            return message.params["code"]
    raise AssertionError("no SMS with a code in the outbox")


def last_token(to: str | None = None) -> str:
    for message in reversed(mail.outbox):
        if to is None or to in message.to:
            match = LINK_RE.search(message.body)
            if match:
                return match.group("token")
    raise AssertionError("no email with a verification link in the outbox")


@pytest.fixture
def pending_appeal(draft_appeal, enterprise_admin):
    """Submitted and waiting for both proofs, with the code and link delivered (locmem)."""
    appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    deliver_queued()
    return appeal


@pytest.fixture
def smtp_server():
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alibaba():
    server = FakeAlibabaSms().start()
    yield server
    server.stop()


@pytest.fixture
def alibaba_settings(settings, alibaba):
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.alibaba.SmsBackend"
    settings.ALIBABA_SMS = {**settings.ALIBABA_SMS, "ENDPOINT": alibaba.endpoint, "ACCESS_KEY_ID": alibaba.KEY_ID,
                            "ACCESS_KEY_SECRET": alibaba.SECRET, "TIMEOUT_SECONDS": 5.0}
    return settings
