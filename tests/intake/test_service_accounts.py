"""Managers manage the enforcement system's service accounts through the API: create, scope,
token (shown once, usable at once), revoke. Nobody else may; every action is audited."""

import pytest

from appeals.audit.models import AuditEvent
from appeals.intake.models import ServiceAccount
from tests.api.conftest import client_for
from tests.intake.conftest import push_body

pytestmark = pytest.mark.django_db

BASE = "/api/v1/intake/service-accounts/"


def test_a_manager_creates_scopes_tokens_and_revokes(manager, enterprise, other_enterprise, account):
    api = client_for(manager)
    created = api.post(BASE, {"name": "WeCom enforcement", "enterprises": [enterprise.pk]}, format="json")
    assert created.status_code == 201, created.content
    sa = created.json()
    assert [e["id"] for e in sa["enterprises"]] == [enterprise.pk] and sa["active"] is True
    user = ServiceAccount.objects.get(pk=sa["id"]).user
    assert not user.has_usable_password() and user.enterprise_id is None and not user.is_desk

    scoped = api.post(f"{BASE}{sa['id']}/scope/", {"enterprises": [enterprise.pk, other_enterprise.pk]}, format="json")
    assert scoped.status_code == 200
    assert sorted(e["id"] for e in scoped.json()["enterprises"]) == sorted([enterprise.pk, other_enterprise.pk])

    token = api.post(f"{BASE}{sa['id']}/tokens/")
    assert token.status_code == 201
    key = token.json()["token"]
    pusher = client_for(None)
    pusher.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert pusher.post("/api/v1/intake/incidents/", push_body(account), format="json").status_code == 201

    revoked = api.post(f"{BASE}{sa['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert pusher.post("/api/v1/intake/incidents/", push_body(account), format="json").status_code == 401

    actions = set(AuditEvent.objects.filter(target_type="appeals.serviceaccount", target_id=str(sa["id"]))
                  .values_list("action", flat=True))
    assert actions == {"intake.service_account_create", "intake.service_account_scope", "intake.token_issue",
                       "intake.service_account_revoke"}
    issued = AuditEvent.objects.get(action="intake.token_issue")
    assert key not in str(issued.after)  # the key is never kept in clear


def test_an_unknown_enterprise_in_the_scope_is_a_field_error(manager):
    response = client_for(manager).post(BASE, {"name": "X", "enterprises": [999999]}, format="json")
    assert response.status_code == 400 and "enterprises" in response.json()["fields"]


def test_nobody_but_a_manager_manages_service_accounts(enterprise_admin, first_reviewer, enforcement, enterprise):
    for user in (enterprise_admin, first_reviewer):
        api = client_for(user)
        assert api.post(BASE, {"name": "X", "enterprises": [enterprise.pk]}, format="json").status_code == 403
        assert api.get(BASE).json()["count"] == 0
        assert api.post(f"{BASE}{enforcement.pk}/tokens/").status_code == 404
        assert api.post(f"{BASE}{enforcement.pk}/revoke/").status_code == 404
    assert ServiceAccount.objects.count() == 1
