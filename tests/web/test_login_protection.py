"""Password guessing is bounded per account and address, per address, and per account across
addresses (django-axes, appeals.shared.login_guard), on the sign-in page and the token
endpoint alike, without a lockout anyone can aim at someone else.

The figures in README "Sign-in and API tokens" are the ones these tests measure."""

import socket

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.models import AuditEvent

pytestmark = pytest.mark.django_db

GOOD = "demo-pass-2026"
A, B = "203.0.113.7", "198.51.100.9"


def web_login(client, username, password, address, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def token_login(username, password, address, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=address, **extra)


def guesses_until_refused(attempt, limit=60) -> int:
    """How many wrong passwords are checked: the last one checked is answered 429 (the limit is
    reached), and every attempt after it is refused without checking the password."""
    for n in range(limit):
        if attempt(n).status_code == 429:
            return n + 1
    return limit


def test_web_wrong_passwords_from_one_address_are_refused_after_five(client, enterprise_admin):
    guesses = guesses_until_refused(lambda n: web_login(client, "admin-a", "wrong", A))
    assert guesses == 5
    refused = web_login(client, "admin-a", GOOD, A)
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_someone_elses_failures_do_not_lock_the_real_user_out_web(client, enterprise_admin):
    for _ in range(30):
        web_login(client, "admin-a", "wrong", A)
    assert web_login(client, "admin-a", GOOD, A).status_code == 429  # the guesser's address stays refused
    real_user = web_login(client.__class__(), "admin-a", GOOD, B)
    assert real_user.status_code == 302
    assert real_user.wsgi_request.user.is_authenticated


def test_someone_elses_failures_do_not_lock_the_real_user_out_api(enterprise_admin):
    # Nine tries and the right password: within the token endpoint's 10/min from one address,
    # so each 429 here is login protection's, not the request-rate throttle's.
    codes = [token_login("admin-a", "wrong", A).status_code for _ in range(9)]
    assert codes[:4] == [400] * 4 and set(codes[4:]) == {429}
    refused = token_login("admin-a", GOOD, A)
    assert refused.status_code == 429 and "failed sign-in attempts" in refused.json()["detail"]
    real_user = token_login("admin-a", GOOD, B)
    assert real_user.status_code == 200 and real_user.json()["token"]


def test_a_fresh_x_forwarded_for_each_time_does_not_reset_the_count(enterprise_admin):
    """The issue's report: 30 wrong passwords, each with a new header, never met a 429. Ten
    here, within the token endpoint's 10/min from one address, so every refusal is login
    protection's (the request-rate throttle's own: tests/api/test_client_address.py)."""
    codes = [token_login("admin-a", "wrong", A, HTTP_X_FORWARDED_FOR=f"10.0.{n}.1").status_code for n in range(9)]
    assert 429 in codes and codes.index(429) == 4
    body = token_login("admin-a", "wrong", A, HTTP_X_FORWARDED_FOR="10.9.9.9").json()
    assert body["code"] == "throttled" and "failed sign-in attempts" in body["detail"]


def test_per_address_limit_across_usernames(client, enterprise_admin):
    # Spraying: a few guesses on each of many usernames from one address.
    guesses = guesses_until_refused(lambda n: web_login(client, f"user-{n // 4}", "wrong", A))
    assert guesses == 20
    # That address is refused for a username it never tried, even with the right password...
    assert token_login("admin-a", GOOD, A).status_code == 429
    # ...and nobody else is.
    assert token_login("admin-a", GOOD, B).status_code == 200


def test_per_account_slowdown_across_addresses(enterprise_admin):
    """Distributed guessing: after ten failures on an account, one guess per address."""
    per_address = []
    for n in range(8):
        address = f"192.0.2.{n + 1}"
        per_address.append(guesses_until_refused(lambda _n, address=address: token_login("admin-a", "wrong", address)))
    # The first two addresses get the pair limit (5 + 5 = 10 failures), every later one a single guess.
    assert per_address == [5, 5, 1, 1, 1, 1, 1, 1]
    # An address that never failed on it still signs in with the right password.
    assert token_login("admin-a", GOOD, "192.0.2.200").status_code == 200


def test_wrong_and_refused_sign_ins_are_audit_events(client, enterprise_admin):
    for _ in range(6):
        web_login(client, "admin-a", "wrong", A)
    events = list(AuditEvent.objects.filter(action="auth.login_failed", target_id="admin-a").order_by("position"))
    assert len(events) == 6
    assert {e.ip for e in events} == {A}
    assert [e.after["locked_out"] for e in events] == [False] * 4 + [True, True]
    web_login(client.__class__(), "admin-a", GOOD, B)
    ok = AuditEvent.objects.get(action="auth.login", target_id=str(enterprise_admin.pk))
    assert ok.actor == enterprise_admin and ok.ip == B and ok.after == {"via": "web"}


def test_login_protection_needs_no_redis(enterprise_admin, settings):
    """Attempts live in PostgreSQL (axes' database handler): with the cache's Redis gone, the
    limits still refuse the guesser and still let the right password in from elsewhere. (The
    pages around sign-in read the cache too; their fail-open is the cache's own business.)"""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{dead}/0"}}

    def sign_in(password, address):
        request = RequestFactory().post("/login/", REMOTE_ADDR=address)
        return authenticate(request=request, username="admin-a", password=password), request

    results = [sign_in("wrong", A) for _ in range(6)]
    assert [r.axes_locked_out for _user, r in results] == [False] * 4 + [True, True]
    assert sign_in(GOOD, A)[0] is None
    assert sign_in(GOOD, B)[0] == enterprise_admin
