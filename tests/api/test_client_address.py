"""The client's address comes from a configured proxy depth only (TRUSTED_PROXY_COUNT)."""

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from appeals.core.api.views import TokenRateThrottle
from appeals.models import AuditEvent
from appeals.shared.client import client_ip


def request(remote="192.0.2.10", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_default_ignores_x_forwarded_for():
    assert client_ip(request(forwarded="1.2.3.4")) == "192.0.2.10"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_trusted_proxy_takes_the_address_it_appended():
    # The client sent "1.2.3.4" itself; our proxy appended the address it really saw.
    assert client_ip(request(remote="10.0.0.2", forwarded="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(request(remote="10.0.0.2")) == "10.0.0.2"
    assert client_ip(request(remote="10.0.0.2", forwarded="not-an-ip")) == "10.0.0.2"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_trusted_proxies():
    assert client_ip(request(remote="10.0.0.3", forwarded="1.2.3.4, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"


def test_throttles_use_the_same_address():
    assert api_settings.NUM_PROXIES == 0
    r = request(forwarded="1.2.3.4")
    assert AnonRateThrottle().get_ident(r) == client_ip(r)


@pytest.mark.django_db
def test_token_throttle_is_not_reset_by_a_fresh_header(enterprise_admin, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    client = APIClient()
    codes = [client.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"}, format="json",
                         HTTP_X_FORWARDED_FOR=f"10.1.{n}.1").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]


@pytest.mark.django_db
def test_the_audit_trail_ignores_a_client_set_header(api_as, enterprise_admin, account):
    api_as(enterprise_admin).patch(f"/api/v1/accounts/{account.pk}/", {"display_name": "Renamed"}, format="json",
                                   REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert AuditEvent.objects.filter(action="account.update").latest("position").ip == "10.1.2.3"
