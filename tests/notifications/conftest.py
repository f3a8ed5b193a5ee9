"""Fixtures for the SMS providers: the Tencent and Alibaba stand-ins on loopback."""

import pytest

from appeals.notifications.sms import health
from tests.verification.servers import FakeAlibabaSms

from . import tencent_server
from .tencent_server import FakeTencentSms


@pytest.fixture
def tencent():
    server = FakeTencentSms().start()
    yield server
    server.stop()


@pytest.fixture
def alibaba():
    server = FakeAlibabaSms().start()
    yield server
    server.stop()


def tencent_options(server) -> dict:
    return {"endpoint": server.endpoint, "secret_id": tencent_server.SECRET_ID, "secret_key": tencent_server.SECRET_KEY,
            "sdk_app_id": tencent_server.SDK_APP_ID, "timeout_seconds": 2.0}


@pytest.fixture
def providers_settings(settings, tencent, alibaba):
    """The failover backend over Tencent (first) and Alibaba (second), both stand-ins."""
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.failover.SmsBackend"
    settings.SMS_PROVIDERS = ["tencent", "alibaba"]
    settings.TENCENT_SMS = {**settings.TENCENT_SMS, **{k.upper(): v for k, v in tencent_options(tencent).items()}}
    settings.ALIBABA_SMS = {**settings.ALIBABA_SMS, "ENDPOINT": alibaba.endpoint, "ACCESS_KEY_ID": alibaba.KEY_ID,
                            "ACCESS_KEY_SECRET": alibaba.SECRET, "TIMEOUT_SECONDS": 2.0}
    settings.SMS_FAILOVER = {**settings.SMS_FAILOVER, "FAILURE_THRESHOLD": 2, "WINDOW_SECONDS": 60, "COOL_DOWN_SECONDS": 1.0,
                             "PROBE_SECONDS": 5}
    for name in settings.SMS_PROVIDERS:
        health.reset(name)
    return settings
