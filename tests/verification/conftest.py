"""Fixtures for verification: in-process delivery with the locmem backends, real loopback servers."""

import pytest

from appeals.core.services import appeals as appeal_services
from appeals.notifications import sms
from tests.builders import LINK_RE, deliver_queued  # noqa: F401  (the suite's modules import them from here)
from tests.builders import last_email_token as last_token
from tests.builders import last_sms_code as last_code

from .servers import FakeAlibabaSms, LoopbackSMTP

__all__ = ["LINK_RE", "deliver_queued", "last_code", "last_token"]


@pytest.fixture(autouse=True)
def sms_outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def pending_appeal(complete_draft, enterprise_admin):
    """Submitted (evidence complete) and waiting for both proofs, with the code and link delivered (locmem)."""
    appeal = appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
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
