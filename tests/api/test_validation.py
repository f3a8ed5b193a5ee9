"""Bad input gets field-level 400s, illegal moves 409, and protected fields cannot be written."""

import pytest
from django.utils import timezone

from appeals.models import Appeal, AppealState, AuditEvent, BanIncident, MessagingAccount
from tests import builders, factories

pytestmark = pytest.mark.django_db


def _assert_field_error(response, field, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}
    assert field in body["fields"], body
    assert body["fields"][field] and all(isinstance(m, str) for m in body["fields"][field])


def test_bad_phone_is_a_field_error(api_as, enterprise_admin, incident):
    r = api_as(enterprise_admin).post("/api/v1/appeals/", {"incident": incident.pk, "statement": "x",
                                                           "contact_phone": "12345"}, format="json")
    _assert_field_error(r, "contact_phone")
    assert not Appeal.objects.exists()


def test_unknown_and_foreign_incident_are_the_same_field_error(api_as, enterprise_admin, other_admin):
    foreign = factories.IncidentFactory(account=factories.AccountFactory(enterprise=other_admin.enterprise))
    client = api_as(enterprise_admin)
    unknown = client.post("/api/v1/appeals/", {"incident": 987654, "statement": "x", "contact_phone": "13812345678"},
                          format="json")
    other = client.post("/api/v1/appeals/", {"incident": foreign.pk, "statement": "x", "contact_phone": "13812345678"},
                        format="json")
    _assert_field_error(unknown, "incident")
    _assert_field_error(other, "incident")
    assert unknown.json()["fields"]["incident"] != []
    # Same wording (modulo the id): the foreign incident's existence does not leak.
    assert unknown.json()["fields"]["incident"][0].replace("987654", "N") == \
        other.json()["fields"]["incident"][0].replace(str(foreign.pk), "N")


@pytest.mark.parametrize(("verb", "body"), [
    ("first-review", {"decision": "maybe"}),
    ("first-review", {}),
    ("first-review", {"decision": "return"}),  # a second-review decision is not a first-review one
])
def test_bad_decision_enum_is_a_field_error(api_as, claimed_appeal, first_reviewer, verb, body):
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{claimed_appeal.reference}/{verb}/", body, format="json")
    _assert_field_error(r, "decision")
    assert Appeal.objects.get(pk=claimed_appeal.pk).state == AppealState.FIRST_REVIEW


def test_bad_second_review_decision(api_as, second_claimed_appeal, second_reviewer):
    r = api_as(second_reviewer).post(f"/api/v1/appeals/{second_claimed_appeal.reference}/second-review/",
                                     {"decision": "escalate"}, format="json")
    _assert_field_error(r, "decision")


def test_bad_manager_decision(api_as, escalated_appeal, manager):
    r = api_as(manager).post(f"/api/v1/appeals/{escalated_appeal.reference}/decide/", {"decision": "return"}, format="json")
    _assert_field_error(r, "decision")


def test_reject_without_comment_is_a_field_error(api_as, claimed_appeal, first_reviewer):
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{claimed_appeal.reference}/first-review/",
                                    {"decision": "reject", "comment": "   "}, format="json")
    _assert_field_error(r, "comment")


def test_unknown_assignee_is_a_field_error(api_as, claimed_appeal, manager, enterprise_admin):
    client = api_as(manager)
    for assignee in ("nobody", "admin-a", str(enterprise_admin.pk), "99999999999999999999999"):
        r = client.post(f"/api/v1/appeals/{claimed_appeal.reference}/reassign/", {"assignee": assignee}, format="json")
        _assert_field_error(r, "assignee")


def test_reassign_to_someone_without_the_stage_role_is_refused(api_as, claimed_appeal, manager):
    r = api_as(manager).post(f"/api/v1/appeals/{claimed_appeal.reference}/reassign/", {"assignee": "manager"},
                             format="json")
    assert r.status_code == 400 and "assignee" in r.json()["fields"]


def test_incident_bad_enum_unknown_account_and_future_time(api_as, enterprise_admin, account):
    client = api_as(enterprise_admin)
    ok_time = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    _assert_field_error(client.post("/api/v1/incidents/", {"account": account.pk, "banned_at": ok_time, "kind": "meltdown"},
                                    format="json"), "kind")
    _assert_field_error(client.post("/api/v1/incidents/", {"account": 424242, "banned_at": ok_time, "kind": "short_ban"},
                                    format="json"), "account")
    future = (timezone.now() + timezone.timedelta(days=2)).isoformat()
    _assert_field_error(client.post("/api/v1/incidents/", {"account": account.pk, "banned_at": future, "kind": "short_ban"},
                                    format="json"), "banned_at")
    _assert_field_error(client.post("/api/v1/incidents/", {"account": account.pk, "banned_at": "0001-01-01T00:00:00Z",
                                                           "kind": "short_ban"}, format="json"), "banned_at")
    assert not BanIncident.objects.exists()


def test_account_duplicate_and_bad_type(api_as, enterprise_admin, account):
    client = api_as(enterprise_admin)
    _assert_field_error(client.post("/api/v1/accounts/", {"platform": account.platform, "account_id": account.account_id,
                                                          "display_name": "Dup", "account_type": "master"}, format="json"),
                        "account_id")
    _assert_field_error(client.post("/api/v1/accounts/", {"account_id": "wx-new", "display_name": "New",
                                                          "account_type": "boss"}, format="json"), "account_type")
    _assert_field_error(client.post("/api/v1/accounts/", {"account_id": "wx-\x00", "display_name": "New",
                                                          "account_type": "master"}, format="json"), "account_id")


def test_bad_filters_are_field_errors(api_as, first_reviewer):
    client = api_as(first_reviewer)
    _assert_field_error(client.get("/api/v1/appeals/", {"state": "limbo"}), "state")
    _assert_field_error(client.get("/api/v1/appeals/", {"submitted_from": "yesterday"}), "submitted_from")
    _assert_field_error(client.get("/api/v1/appeals/", {"enterprise": "abc"}), "enterprise")
    _assert_field_error(client.get("/api/v1/appeals/", {"severity": "catastrophic"}), "severity")


def test_not_a_json_object_is_a_400(api_as, enterprise_admin):
    r = api_as(enterprise_admin).post("/api/v1/appeals/", [1, 2], format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    r = api_as(enterprise_admin).generic("POST", "/api/v1/appeals/", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "parse_error"


def test_illegal_move_is_409_naming_state_and_action(api_as, draft_appeal, enterprise_admin, submitted_appeal):
    r = api_as(enterprise_admin).post(f"/api/v1/appeals/{submitted_appeal.reference}/submit/")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "invalid_transition"
    assert body["state"] == "first_review" and body["action"] == "submit"
    assert "Submit" in body["detail"] and "First review" in body["detail"]


def test_editing_a_submitted_appeal_is_409(api_as, submitted_appeal, enterprise_admin):
    r = api_as(enterprise_admin).patch(f"/api/v1/appeals/{submitted_appeal.reference}/", {"statement": "changed"},
                                       format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "not_draft"
    assert Appeal.objects.get(pk=submitted_appeal.pk).statement != "changed"


def test_sixth_appeal_per_phone_per_month_is_refused(api_as, enterprise_admin, account):
    client = api_as(enterprise_admin)
    for i in range(5):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        ref = client.post("/api/v1/appeals/", {"incident": incident.pk, "statement": f"s{i}", "contact_phone": "13600000000"},
                          format="json").json()["reference"]
        builders.upload_required_evidence(client, Appeal.objects.get(reference=ref))
        assert client.post(f"/api/v1/appeals/{ref}/submit/").status_code == 200
    incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
    r = client.post("/api/v1/appeals/", {"incident": incident.pk, "statement": "six", "contact_phone": "13600000000"},
                    format="json")
    _assert_field_error(r, "contact_phone")


def test_protected_fields_sent_by_a_client_have_no_effect(api_as, enterprise_admin, other_admin, incident,
                                                          first_reviewer, second_reviewer):
    client = api_as(enterprise_admin)
    r = client.post("/api/v1/appeals/", {
        "incident": incident.pk, "statement": "Please.", "contact_phone": "13812345678",
        "state": "approved", "reference": "AP-1999-000001", "enterprise": other_admin.enterprise_id,
        "enterprise_id": other_admin.enterprise_id, "filed_by": other_admin.pk, "first_reviewer": first_reviewer.pk,
        "second_reviewer": second_reviewer.pk, "submitted_at": "2020-01-01T00:00:00Z", "decided_at": "2020-01-02T00:00:00Z",
    }, format="json")
    assert r.status_code == 201, r.json()
    appeal = Appeal.objects.get(reference=r.json()["reference"])
    assert appeal.reference != "AP-1999-000001"
    assert (appeal.state, appeal.enterprise_id, appeal.filed_by_id) == ("draft", enterprise_admin.enterprise_id, enterprise_admin.pk)
    assert (appeal.first_reviewer_id, appeal.second_reviewer_id, appeal.submitted_at, appeal.decided_at) == (None,) * 4

    r = client.patch(f"/api/v1/appeals/{appeal.reference}/", {"statement": "Edited.", "state": "approved",
                                                               "reference": "AP-1999-000002", "first_reviewer": first_reviewer.pk,
                                                               "enterprise": other_admin.enterprise_id}, format="json")
    assert r.status_code == 200
    appeal.refresh_from_db()
    assert (appeal.statement, appeal.state, appeal.first_reviewer_id, appeal.enterprise_id) == (
        "Edited.", "draft", None, enterprise_admin.enterprise_id)
    assert appeal.reference == r.json()["reference"]

    r = client.post("/api/v1/accounts/", {"account_id": "wx-ro", "display_name": "RO", "account_type": "master",
                                          "enterprise": other_admin.enterprise_id}, format="json")
    assert MessagingAccount.objects.get(pk=r.json()["id"]).enterprise_id == enterprise_admin.enterprise_id
    r = client.patch(f"/api/v1/accounts/{incident.account_id}/", {"account_id": "hijack", "platform": "feishu",
                                                                   "enterprise": other_admin.enterprise_id}, format="json")
    account = MessagingAccount.objects.get(pk=incident.account_id)
    assert (account.account_id, account.platform, account.enterprise_id) == (
        incident.account.account_id, "wecom", enterprise_admin.enterprise_id)

    r = client.post("/api/v1/incidents/", {"account": incident.account_id, "kind": "desktop_logout", "severity": "severe",
                                           "enterprise": other_admin.enterprise_id,
                                           "banned_at": timezone.now().isoformat()}, format="json")
    created = BanIncident.objects.get(pk=r.json()["id"])
    assert (created.severity, created.enterprise_id, created.created_by_id) == (
        "minor", enterprise_admin.enterprise_id, enterprise_admin.pk)


def test_writes_are_audited_with_the_client_ip(api_as, enterprise_admin, account):
    client = api_as(enterprise_admin)
    client.patch(f"/api/v1/accounts/{account.pk}/", {"display_name": "Renamed"}, format="json", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action="account.update")
    assert event.ip == "10.1.2.3" and event.actor == enterprise_admin
    assert event.after["display_name"] == "Renamed"


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "off", None])
def test_a_boolean_in_a_json_body_is_true_or_false(api_as, manager, value):
    """The schema says `type: boolean`: DRF alone would take 0, 1, "yes" or "off" (the schema
    fuzzer found `"active": 0` accepted). Nothing is created on the refusal."""
    from appeals.recovery.models import RecoveryStepTemplate

    body = {"kind": "short_ban", "order": 40, "anchor": "decision", "offset_days": 7, "duration_days": 14,
            "remind_at_end": True, "title_en": "Check the complaint rate", "title_zh": "检查投诉率", "text_en": "", "text_zh": ""}
    before = RecoveryStepTemplate.objects.count()
    _assert_field_error(api_as(manager).post("/api/v1/recovery/templates/", {**body, "active": value}, format="json"), "active")
    assert RecoveryStepTemplate.objects.count() == before
    created = api_as(manager).post("/api/v1/recovery/templates/", {**body, "active": False}, format="json")
    assert created.status_code == 201 and created.json()["active"] is False


def test_a_boolean_from_a_form_or_query_string_still_reads_its_words():
    from django.http import QueryDict
    from rest_framework import serializers

    class Flag(serializers.Serializer):
        on = serializers.BooleanField()

    for text, expected in (("true", True), ("on", True), ("1", True), ("false", False), ("off", False)):
        form = Flag(data=QueryDict(f"on={text}"))
        assert form.is_valid(), form.errors
        assert form.validated_data["on"] is expected
    assert not Flag(data={"on": "true"}).is_valid()  # a JSON body's string is not a boolean
