"""One appeal from filing to decision through the REST API, as three different people."""

import pytest
from django.utils import timezone

from appeals.models import Appeal, AuditEvent
from tests import builders

pytestmark = pytest.mark.django_db


def test_full_lifecycle_through_the_api(api_as, enterprise_admin, first_reviewer, second_reviewer):
    admin = api_as(enterprise_admin)

    r = admin.post("/api/v1/accounts/", {"platform": "wecom", "account_id": "wx-sales-001", "display_name": "销售一号",
                                         "account_type": "operations"}, format="json")
    assert r.status_code == 201, r.json()
    account_id = r.json()["id"]
    assert r.json()["enterprise"]["id"] == enterprise_admin.enterprise_id

    banned_at = (timezone.now() - timezone.timedelta(hours=3)).isoformat()
    r = admin.post("/api/v1/incidents/", {"account": account_id, "banned_at": banned_at, "kind": "permanent_ban",
                                          "reason": "user_reports", "notice_text": "该账号已被永久封禁"}, format="json")
    assert r.status_code == 201, r.json()
    incident_id = r.json()["id"]
    assert r.json()["severity"] == "severe"  # defaulted from the kind

    r = admin.post("/api/v1/appeals/", {"incident": incident_id, "statement": "我们没有违规，请解封。",
                                        "contact_phone": "13912345678"}, format="json")
    assert r.status_code == 201, r.json()
    reference = r.json()["reference"]
    assert reference.startswith(f"AP-{timezone.localtime().year}-")
    assert r.json()["state"] == "draft"
    assert [a["verb"] for a in r.json()["available_actions"]] == ["submit", "withdraw"]

    r = admin.post(f"/api/v1/appeals/{reference}/submit/")
    assert r.status_code == 409 and r.json()["code"] == "evidence_incomplete"
    assert len(builders.upload_required_evidence(admin, Appeal.objects.get(reference=reference))) == 5  # severe: the log too
    r = admin.post(f"/api/v1/appeals/{reference}/submit/")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "submitted"  # waiting for the SMS code and the email link

    builders.deliver_queued()
    enterprise = enterprise_admin.enterprise
    r = admin.post(f"/api/v1/appeals/{reference}/verification/code/",
                   {"code": builders.last_sms_code(enterprise.legal_rep_mobile)}, format="json")
    assert r.status_code == 200, r.json()
    r = api_as(None).post("/api/v1/verification/email/confirm/", {"token": builders.last_email_token(enterprise.admin_email)},
                          format="json")
    assert r.status_code == 200, r.json()
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "first_review"

    r1 = api_as(first_reviewer)
    r = r1.get("/api/v1/appeals/", {"state": "first_review"})
    assert [row["reference"] for row in r.json()["results"]] == [reference]
    assert r1.post(f"/api/v1/appeals/{reference}/claim/").json()["first_reviewer"] == "reviewer-1"
    r = r1.post(f"/api/v1/appeals/{reference}/first-review/", {"decision": "approve", "comment": "Evidence complete."},
                format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "second_review"

    r2 = api_as(second_reviewer)
    assert r2.post(f"/api/v1/appeals/{reference}/claim/").json()["second_reviewer"] == "reviewer-2"
    r = r2.post(f"/api/v1/appeals/{reference}/second-review/", {"decision": "approve", "outcome_code": "restored"},
                format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "approved"
    assert r.json()["decided_at"] is not None

    r = admin.get(f"/api/v1/appeals/{reference}/")
    assert r.json()["state"] == "approved"
    assert r.json()["available_actions"] == []
    timeline = admin.get(f"/api/v1/appeals/{reference}/timeline/").json()
    assert [(e["action"], e["from_state"], e["to_state"], e["actor"]) for e in timeline] == [
        ("submit", "draft", "submitted", "admin-a"),
        ("accept", "submitted", "first_review", None),
        ("claim_first", "first_review", "first_review", "reviewer-1"),
        ("recommend_approve", "first_review", "second_review", "reviewer-1"),
        ("claim_second", "second_review", "second_review", "reviewer-2"),
        ("approve", "second_review", "approved", "reviewer-2"),
    ]
    assert timeline[3]["comment"] == "Evidence complete."
    assert AuditEvent.objects.filter(target_id=reference, action="appeal.approve", actor=second_reviewer).exists()


def test_first_reviewer_cannot_do_the_second_review(api_as, second_review_appeal, first_reviewer):
    ref = second_review_appeal.reference
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{ref}/claim/")
    assert r.status_code == 403
    assert r.json()["code"] == "separation_of_duties"
    assert set(r.json()) == {"detail", "code", "fields"}
    # Nor can they decide it directly without the claim.
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{ref}/second-review/", {"decision": "approve"}, format="json")
    assert r.status_code == 403
    second_review_appeal.refresh_from_db()
    assert second_review_appeal.second_reviewer is None
    assert second_review_appeal.state == "second_review"


def test_first_reviewer_cannot_approve_a_case_claimed_by_someone_else(api_as, second_claimed_appeal, first_reviewer):
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{second_claimed_appeal.reference}/second-review/",
                                    {"decision": "approve"}, format="json")
    assert r.status_code == 403
    assert Appeal.objects.get(pk=second_claimed_appeal.pk).state == "second_review"


def test_needs_info_then_resubmit_returns_to_first_review(api_as, needs_info_appeal, enterprise_admin):
    r = api_as(enterprise_admin).post(f"/api/v1/appeals/{needs_info_appeal.reference}/resubmit/",
                                      {"comment": "Letter uploaded."}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "first_review"


def test_manager_decides_an_escalated_case(api_as, escalated_appeal, manager):
    r = api_as(manager).post(f"/api/v1/appeals/{escalated_appeal.reference}/decide/",
                             {"decision": "reject", "comment": "Confirmed violation on the hotline.",
                              "outcome_code": "refused_violation_confirmed"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "rejected"


def test_manager_reassigns_by_username_and_by_id(api_as, claimed_appeal, manager, second_reviewer, first_reviewer):
    ref = claimed_appeal.reference
    r = api_as(manager).post(f"/api/v1/appeals/{ref}/reassign/", {"assignee": "reviewer-2"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["first_reviewer"] == "reviewer-2"
    r = api_as(manager).post(f"/api/v1/appeals/{ref}/reassign/", {"assignee": str(first_reviewer.pk)}, format="json")
    assert r.json()["first_reviewer"] == "reviewer-1"


def test_reviewer_changes_incident_severity(api_as, submitted_appeal, first_reviewer, enterprise_admin):
    incident = submitted_appeal.incident
    r = api_as(first_reviewer).post(f"/api/v1/incidents/{incident.pk}/severity/", {"severity": "severe"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["severity"] == "severe"
    r = api_as(enterprise_admin).post(f"/api/v1/incidents/{incident.pk}/severity/", {"severity": "minor"}, format="json")
    assert r.status_code == 403
    incident.refresh_from_db()
    assert incident.severity == "severe"
    assert AuditEvent.objects.filter(action="incident.set_severity", actor=first_reviewer).count() == 1


def test_detail_shows_incident_account_prior_incidents_and_actions(api_as, submitted_appeal, first_reviewer, account):
    from tests.factories import IncidentFactory

    incident = submitted_appeal.incident
    old = IncidentFactory(account=account, banned_at=incident.banned_at - timezone.timedelta(days=40), kind="adds_restricted")
    IncidentFactory(account=account, banned_at=incident.banned_at - timezone.timedelta(days=400))  # too old to count
    body = api_as(first_reviewer).get(f"/api/v1/appeals/{submitted_appeal.reference}/").json()
    assert body["incident"]["id"] == incident.pk
    assert body["account"]["id"] == account.pk
    assert [p["id"] for p in body["prior_incidents"]] == [old.pk]
    # Role and state decide what is offered (guards such as "claim first" may still refuse).
    assert body["available_actions"][0] == {"action": "claim_first", "label": "Claim for first review", "verb": "claim",
                                            "decision": None}
    assert {(a["verb"], a["decision"]) for a in body["available_actions"][1:]} == {
        ("first-review", "approve"), ("first-review", "reject"), ("first-review", "request_info"), ("first-review", "escalate"),
    }
    own = api_as(submitted_appeal.filed_by).get(f"/api/v1/appeals/{submitted_appeal.reference}/").json()
    assert [a["verb"] for a in own["available_actions"]] == ["withdraw"]


def test_second_claim_is_409_naming_the_claimer(api_as, claimed_appeal, second_reviewer):
    r = api_as(second_reviewer).post(f"/api/v1/appeals/{claimed_appeal.reference}/claim/")
    assert r.status_code == 409
    assert r.json()["code"] == "already_claimed"
    assert "reviewer-1" in r.json()["detail"]


def test_withdraw_and_then_nothing_more(api_as, submitted_appeal, enterprise_admin, first_reviewer):
    r = api_as(enterprise_admin).post(f"/api/v1/appeals/{submitted_appeal.reference}/withdraw/",
                                      {"comment": "Unbanned by the platform meanwhile."}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    r = api_as(first_reviewer).post(f"/api/v1/appeals/{submitted_appeal.reference}/claim/")
    assert r.status_code == 409
    assert r.json()["state"] == "withdrawn"
