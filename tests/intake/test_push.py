"""The enforcement system pushes ban incidents: once, for the enterprises it serves, audited."""

import pytest

from appeals.audit.models import AuditEvent
from appeals.core.models import BanIncident
from appeals.intake.models import PushedIncident
from tests import factories
from tests.api.conftest import client_for
from tests.intake.conftest import push_body

URL = "/api/v1/intake/incidents/"

pytestmark = pytest.mark.django_db


def test_a_push_records_the_incident_for_the_enterprise_audited(enforcement_api, enforcement, account):
    response = enforcement_api.post(URL, push_body(account, external_id="ENF-1"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    incident = BanIncident.objects.get(pk=body["id"])
    assert (incident.enterprise_id, incident.account_id, incident.kind) == (account.enterprise_id, account.pk, "permanent_ban")
    assert incident.notice_text == "该账号因被多次投诉，已被永久封禁。"
    assert incident.severity == "severe"  # the kind's default severity, as for any incident
    assert incident.created_by == enforcement.user
    assert body["source"] == "enforcement" and body["external_id"] == "ENF-1" and body["appeal_reference"] is None
    assert PushedIncident.objects.get(incident=incident).service_account == enforcement

    created = AuditEvent.objects.get(action="incident.create", target_id=str(incident.pk))
    assert created.after["source"] == "enforcement" and created.after["external_id"] == "ENF-1"
    assert created.enterprise_id == account.enterprise_id and created.actor_id == enforcement.user_id
    assert AuditEvent.objects.filter(action="intake.incident_push", target_id=str(incident.pk),
                                     enterprise_id=account.enterprise_id).exists()


def test_pushed_twice_with_the_same_idempotency_key_exists_once_and_the_answer_repeats(enforcement_api, account):
    body = push_body(account)
    first = enforcement_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="7f1d3c1e-push-1")
    second = enforcement_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="7f1d3c1e-push-1")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert BanIncident.objects.count() == 1
    assert AuditEvent.objects.filter(action="intake.incident_push").count() == 1


def test_the_same_key_with_another_body_is_refused(enforcement_api, account):
    enforcement_api.post(URL, push_body(account), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = enforcement_api.post(URL, push_body(account, kind="short_ban"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["fields"]
    assert BanIncident.objects.count() == 1


def test_the_same_external_id_pushed_again_without_a_key_answers_with_the_first_incident(enforcement_api, account):
    first = enforcement_api.post(URL, push_body(account, external_id="ENF-9"), format="json")
    again = enforcement_api.post(URL, push_body(account, external_id="ENF-9"), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert BanIncident.objects.count() == 1
    assert AuditEvent.objects.filter(action="intake.incident_push_repeat", target_id=str(first.json()["id"])).exists()


def test_an_account_of_an_enterprise_not_served_is_not_found(enforcement_api, other_enterprise):
    foreign = factories.AccountFactory(enterprise=other_enterprise)

    response = enforcement_api.post(URL, push_body(foreign), format="json")
    unknown = enforcement_api.post(URL, push_body(foreign, account_id="wx-nobody"), format="json")

    assert response.status_code == unknown.status_code == 404
    assert response.json()["code"] == unknown.json()["code"] == "account_not_served"  # the same answer: nothing leaks
    assert not BanIncident.objects.exists()


def test_scope_follows_the_manager(manager, enforcement, enforcement_api, other_enterprise):
    from appeals.intake import services

    foreign = factories.AccountFactory(enterprise=other_enterprise)
    assert enforcement_api.post(URL, push_body(foreign), format="json").status_code == 404
    services.service_account_scope(by=manager, service_account=enforcement, enterprises=[other_enterprise])
    assert enforcement_api.post(URL, push_body(foreign), format="json").status_code == 201


def test_only_a_service_account_may_push(enterprise_admin, manager, account):
    for user in (enterprise_admin, manager):
        response = client_for(user).post(URL, push_body(account), format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "service_account_only"
    assert not BanIncident.objects.exists()


def test_bad_input_is_a_field_error(enforcement_api, account):
    response = enforcement_api.post(URL, push_body(account, kind="nuked", banned_at="2099-01-01T00:00:00Z"), format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"kind", "banned_at"}


def test_a_service_account_can_do_nothing_else(enforcement_api, enforcement, account, draft_appeal):
    pushed = enforcement_api.post(URL, push_body(account), format="json").json()
    assert enforcement_api.get("/api/v1/appeals/").json()["count"] == 0
    assert enforcement_api.get("/api/v1/incidents/").json()["count"] == 0
    assert enforcement_api.get(f"/api/v1/incidents/{pushed['id']}/").status_code == 404
    assert enforcement_api.get(f"/api/v1/appeals/{draft_appeal.reference}/").status_code == 404
    assert enforcement_api.get("/api/v1/accounts/").json()["count"] == 0
    assert enforcement_api.get("/api/v1/intake/service-accounts/").json()["count"] == 0
    assert enforcement_api.post("/api/v1/appeals/", {"incident": pushed["id"], "statement": "x",
                                                     "contact_phone": "13912345678"}, format="json").status_code in (400, 403)
    assert enforcement_api.post(f"/api/v1/intake/service-accounts/{enforcement.pk}/tokens/").status_code == 404
    # What it pushed, it may list.
    assert [row["id"] for row in enforcement_api.get(URL).json()["results"]] == [pushed["id"]]


def test_the_enterprise_admin_sees_it_and_another_enterprise_does_not(enforcement_api, account, enterprise_admin, other_admin):
    pushed = enforcement_api.post(URL, push_body(account), format="json").json()

    assert client_for(enterprise_admin).get(f"/api/v1/incidents/{pushed['id']}/").status_code == 200
    other = client_for(other_admin)
    assert other.get(f"/api/v1/incidents/{pushed['id']}/").status_code == 404
    assert other.get("/api/v1/incidents/").json()["count"] == 0


def test_a_revoked_service_account_is_refused(manager, enforcement, enforcement_api, account):
    from appeals.intake import services

    services.service_account_revoke(by=manager, service_account=enforcement)
    assert enforcement_api.post(URL, push_body(account), format="json").status_code == 401
    assert AuditEvent.objects.filter(action="intake.service_account_revoke", target_id=str(enforcement.pk)).exists()
