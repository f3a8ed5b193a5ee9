"""API tokens: hashed at rest, expiring, revoked on logout and password change, listed and
revoked by their owner; `Token` and `Bearer` both accepted; all of it audited and documented."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from appeals.core.services.users import user_upsert
from appeals.models import AuditEvent

pytestmark = pytest.mark.django_db
GOOD = "demo-pass-2026"


def issue(username="admin-a", password=GOOD) -> dict:
    r = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


def using(key, prefix="Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{prefix} {key}")
    return client


def test_token_is_stored_hashed_with_an_expiry(enterprise_admin):
    body = issue()
    row = AuthToken.objects.get(user=enterprise_admin)
    assert body["token"] not in (row.digest, row.token_key) and body["token"].startswith(row.token_key)
    assert body["token_key"] == row.token_key
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert row.expiry is not None and abs((row.expiry - row.created) - ttl) < dt.timedelta(seconds=5)
    assert body["expiry"]


def test_token_stops_working_when_it_expires(enterprise_admin):
    key = issue()["token"]
    assert using(key).get("/api/v1/appeals/").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + settings.REST_KNOX["TOKEN_TTL"] + dt.timedelta(minutes=1)):
        assert using(key).get("/api/v1/appeals/").status_code == 401
    assert not AuthToken.objects.filter(user=enterprise_admin).exists()


def test_bearer_prefix_works_too(enterprise_admin):
    key = issue()["token"]
    assert using(key, "Bearer").get("/api/v1/appeals/").status_code == 200
    assert using(key, "Basic").get("/api/v1/appeals/").status_code == 401


def test_logout_revokes_the_token_used(enterprise_admin):
    key, other = issue()["token"], issue()["token"]
    assert using(key).post("/api/v1/auth/logout/").status_code == 204
    assert using(key).get("/api/v1/appeals/").status_code == 401
    assert using(other).get("/api/v1/appeals/").status_code == 200  # the other device stays signed in
    event = AuditEvent.objects.filter(action="auth.token_revoke").latest("position")
    assert event.target_id == str(enterprise_admin.pk) and event.after == {"reason": "logout"}


def test_password_change_revokes_every_token(enterprise_admin, manager):
    keys = [issue()["token"] for _ in range(2)]
    enterprise_admin.set_password("a-new-long-passphrase-2026")
    enterprise_admin.save()
    assert [using(k).get("/api/v1/appeals/").status_code for k in keys] == [401, 401]
    assert AuditEvent.objects.filter(action="auth.token_revoke", after__reason="password_change").count() == 2


def test_password_reset_through_the_user_service_revokes_too(enterprise_admin, enterprise, manager):
    key = issue()["token"]
    user_upsert(by=manager, username="admin-a", password="another-passphrase-2026", enterprise=enterprise)
    assert using(key).get("/api/v1/appeals/").status_code == 401


def test_user_lists_and_revokes_own_tokens(enterprise_admin, other_admin):
    mine = [issue() for _ in range(2)]
    theirs = issue("admin-b")
    client = using(mine[0]["token"])
    listed = client.get("/api/v1/auth/tokens/").json()
    assert {t["token_key"] for t in listed} == {t["token_key"] for t in mine}
    assert [t["current"] for t in listed if t["token_key"] == mine[0]["token_key"]] == [True]
    assert all("token" not in t and "digest" not in t for t in listed)
    # Someone else's token is not found, and stays alive.
    assert client.delete(f"/api/v1/auth/tokens/{theirs['token_key']}/").status_code == 404
    assert using(theirs["token"]).get("/api/v1/appeals/").status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{mine[1]['token_key']}/").status_code == 204
    assert using(mine[1]["token"]).get("/api/v1/appeals/").status_code == 401
    assert [t["token_key"] for t in client.get("/api/v1/auth/tokens/").json()] == [mine[0]["token_key"]]


def test_token_limit_per_user_revokes_the_oldest(enterprise_admin, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    first, second, third = (issue()["token"] for _ in range(3))
    assert using(first).get("/api/v1/appeals/").status_code == 401
    assert using(second).get("/api/v1/appeals/").status_code == 200 and using(third).get("/api/v1/appeals/").status_code == 200


def test_issue_is_audited_with_the_login(enterprise_admin):
    body = issue()
    issued = AuditEvent.objects.get(action="auth.token_issue")
    assert issued.actor == enterprise_admin and issued.target_id == str(enterprise_admin.pk)
    assert issued.after["token_key"] == body["token_key"] and body["token"] not in str(issued.after)
    assert AuditEvent.objects.get(action="auth.login").after == {"via": "api"}


def test_schema_documents_the_token_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/auth/token/"] and "post" in paths["/api/v1/auth/logout/"]
    assert "get" in paths["/api/v1/auth/tokens/"] and "delete" in paths["/api/v1/auth/tokens/{token_key}/"]
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer" and "Token <key>" in scheme["description"]
    token_out = schema["components"]["schemas"]["TokenOutput"]["properties"]
    assert {"token", "token_key", "expiry"} <= set(token_out)
