"""Webhook fixtures: loopback receivers, endpoints registered through the service, and a
private worker (its own queue and broker prefix, short limits) for the delivery tests."""

import pytest

from appeals.webhooks import services
from tests.api.conftest import client_for
from tests.webhooks.receiver import Receiver


@pytest.fixture
def loopback_webhooks(settings):
    """Plain http to a receiver on this machine, as local settings allow (production refuses it;
    tests/webhooks/test_urls.py checks both)."""
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": True}


@pytest.fixture
def receivers(loopback_webhooks):
    started = []

    def start(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def endpoint_for(receivers):
    """endpoint_for(user, script=..., platform=False, events=None) -> (endpoint, receiver): an
    endpoint registered through the service, its receiver holding the secret shown once."""

    def make(user, *, script=None, platform=False, events=None):
        receiver = receivers(script=script)
        endpoint, secret = services.webhook_endpoint_create(by=user, url=receiver.url, platform=platform,
                                                            events=events or ["appeal.submitted", "appeal.decided",
                                                                              "appeal.escalated", "appeal.withdrawn"])
        receiver.secret = secret
        return endpoint, receiver

    return make


@pytest.fixture
def api_as():
    return client_for
