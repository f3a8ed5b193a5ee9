"""Sign-in brute-force protection, counted in the real cache (Redis in the test settings)."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_failures():
    keys = ["login-fail:ip:127.0.0.1", "login-fail:user:admin-a", "login-fail:user:reviewer-1"]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@override_settings(LOGIN_MAX_FAILURES=3)
def test_locked_after_repeated_failures_even_with_the_right_password(client, enterprise_admin):
    url = reverse("login")
    for _ in range(3):
        response = client.post(url, {"username": "admin-a", "password": "wrong"})
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    response = client.post(url, {"username": "admin-a", "password": "demo-pass-2026"})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_MAX_FAILURES=3)
def test_success_below_the_limit_resets_the_username_count(client, enterprise_admin):
    url = reverse("login")
    for _ in range(2):
        client.post(url, {"username": "admin-a", "password": "wrong"})
    assert client.post(url, {"username": "admin-a", "password": "demo-pass-2026"}).status_code == 302
    assert cache.get("login-fail:user:admin-a") is None
