"""Reasoned decisions: the guard, the stored reason, the notice, the reports, the admin."""

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from appeals.audit.models import AuditEvent
from appeals.core.models import Appeal, AppealEvent, AppealState, OutcomeCode
from appeals.core.services import appeals as svc
from appeals.core.services.outcome_codes import outcome_code_save
from appeals.shared.exceptions import PermissionDenied, ValidationFailed
from tests import builders

SEEDED = ["restored", "restored_with_warning", "refused_evidence_insufficient", "refused_violation_confirmed",
          "refused_repeat_offence", "refused_permanent_ban"]


def test_the_migration_seeds_the_six_codes_in_both_languages(db):
    codes = list(OutcomeCode.objects.order_by("position"))
    assert [c.code for c in codes] == SEEDED
    assert [c.outcome for c in codes] == ["approve", "approve", "reject", "reject", "reject", "reject"]
    for c in codes:
        assert c.reason_en and c.reason_zh and c.next_steps_en and c.next_steps_zh and c.label_zh and c.active


@pytest.mark.parametrize(("body", "code"), [
    ({"decision": "approve"}, "outcome_code_required"),
    ({"decision": "approve", "outcome_code": "nonsense"}, "outcome_code_unknown"),
    ({"decision": "approve", "outcome_code": "refused_violation_confirmed"}, "outcome_code_mismatch"),
    ({"decision": "reject", "comment": "Spam.", "outcome_code": "restored"}, "outcome_code_mismatch"),
])
def test_api_refuses_a_decision_without_a_matching_code(api_as, second_claimed_appeal, second_reviewer, body, code):
    r = api_as(second_reviewer).post(f"/api/v1/appeals/{second_claimed_appeal.reference}/second-review/", body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == code
    assert "outcome_code" in r.json()["fields"]
    appeal = Appeal.objects.get(pk=second_claimed_appeal.pk)
    assert appeal.state == AppealState.SECOND_REVIEW and appeal.outcome_code == ""
    assert not AppealEvent.objects.filter(appeal=appeal, action__in=["approve", "reject"]).exists()


def test_a_retired_code_is_refused(api_as, second_claimed_appeal, second_reviewer, manager):
    outcome_code_save(by=manager, code="restored_with_warning", active=False)
    r = api_as(second_reviewer).post(f"/api/v1/appeals/{second_claimed_appeal.reference}/second-review/",
                                     {"decision": "approve", "outcome_code": "restored_with_warning"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "outcome_code_unknown"


def test_return_needs_no_code(second_claimed_appeal, second_reviewer):
    appeal = svc.appeal_second_review(appeal=second_claimed_appeal, by=second_reviewer, decision="return", comment="Check ID")
    assert appeal.state == AppealState.FIRST_REVIEW and appeal.outcome_code == ""


def test_api_decision_stores_the_code_and_the_rendered_reason_and_audits_it(api_as, second_claimed_appeal, second_reviewer):
    ref = second_claimed_appeal.reference
    r = api_as(second_reviewer).post(f"/api/v1/appeals/{ref}/second-review/",
                                     {"decision": "reject", "comment": "Complaints confirmed.",
                                      "outcome_code": "refused_violation_confirmed"}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["state"] == "rejected" and body["outcome_code"] == "refused_violation_confirmed"
    assert body["decision_reason"] == f"Your appeal {ref} is refused: the review confirmed the violation behind the ban (User reports)."
    appeal = Appeal.objects.get(reference=ref)
    assert appeal.decision_reason_zh == f"您的申诉 {ref} 未通过：经审核，导致封禁的违规行为（用户举报）属实。"
    zh = api_as(second_reviewer).get(f"/api/v1/appeals/{ref}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["decision_reason"] == appeal.decision_reason_zh
    audit = AuditEvent.objects.get(action="appeal.outcome", target_id=ref)
    assert audit.after["outcome_code"] == "refused_violation_confirmed" and audit.actor_id == second_reviewer.pk
    event = AppealEvent.objects.get(appeal=appeal, action="reject")
    assert event.data["outcome_code"] == "refused_violation_confirmed"


def test_manager_decision_on_an_escalated_case_needs_a_code(api_as, escalated_appeal, manager):
    url = f"/api/v1/appeals/{escalated_appeal.reference}/decide/"
    r = api_as(manager).post(url, {"decision": "approve"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "outcome_code_required"
    r = api_as(manager).post(url, {"decision": "approve", "outcome_code": "restored_with_warning"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "approved" and r.json()["outcome_code"] == "restored_with_warning"


def test_outcome_code_catalogue_api(api_as, enterprise_admin):
    r = api_as(enterprise_admin).get("/api/v1/outcome-codes/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200
    assert [c["code"] for c in r.json()] == SEEDED
    assert r.json()[0]["label"] == "已恢复"
    assert api_as(None).get("/api/v1/outcome-codes/").status_code == 401


def test_web_form_shows_the_field_error_and_then_decides(second_claimed_appeal, second_reviewer):
    client = Client()
    client.force_login(second_reviewer)
    url = f"/appeals/{second_claimed_appeal.reference}/"
    page = client.get(url)
    assert b'name="outcome_code"' in page.content and b'value="refused_permanent_ban"' in page.content
    r = client.post(url, {"action": "approve", "comment": "", "outcome_code": "refused_permanent_ban"})
    assert r.status_code == 400
    assert "A refusing code cannot approve an appeal." in r.content.decode()
    assert Appeal.objects.get(pk=second_claimed_appeal.pk).state == AppealState.SECOND_REVIEW
    r = client.post(url, {"action": "approve", "comment": "", "outcome_code": "restored"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert 'data-code="restored"' in page and "The account is restored." in page


def _decided_mail(appeal_ref):
    found = [m for m in mail.outbox if appeal_ref in m.subject and m.subject != ""]
    return found[-1]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_decision_notice_carries_reason_next_steps_and_redress(complete_draft, enterprise_admin, first_reviewer,
                                                             second_reviewer, settings, language):
    settings.APPEALS = {**settings.APPEALS, "HOTLINE": "400-820-5555"}
    with translation.override(language):
        appeal = builders.submitted_appeal(complete_draft, enterprise_admin)
    svc.appeal_claim(appeal=appeal, by=first_reviewer)
    svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="reject", comment="Repeat offence.")
    svc.appeal_claim(appeal=appeal, by=second_reviewer)
    with translation.override("en"):  # the desk's language does not decide the admin's mail
        svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="reject", comment="Second ban in March.",
                                 outcome_code="refused_repeat_offence")
    mail.outbox.clear()
    builders.deliver_queued()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    code = OutcomeCode.objects.get(code="refused_repeat_offence")
    ref = appeal.reference
    assert "Second ban in March." in body and "400-820-5555" in body
    if language == "en":
        assert f"Your appeal {ref} is refused: the account" in body
        assert "Outcome: Refused: repeat offence within six months" in body
        assert "What to do next:" in body and code.next_steps_en in body
        assert "How to seek redress:" in body and "you may appeal again" in body
    else:
        assert f"您的申诉 {ref} 未通过：账号" in body
        assert "结果：未通过：六个月内重复违规" in body
        assert "下一步：" in body and code.next_steps_zh in body
        assert "如何寻求救济：" in body and "再次申诉" in body


def test_permanent_ban_notice_offers_the_hotline_but_not_a_new_appeal(second_claimed_appeal, second_reviewer):
    mail.outbox.clear()
    svc.appeal_second_review(appeal=second_claimed_appeal, by=second_reviewer, decision="reject", comment="Severe.",
                             outcome_code="refused_permanent_ban")
    builders.deliver_queued()
    body = mail.outbox[-1].body
    assert "cannot be lifted" in body and "Call the appeal hotline" in body
    assert "you may appeal again" not in body


def test_managers_edit_texts_through_the_audited_service(db, manager, first_reviewer):
    with pytest.raises(PermissionDenied):
        outcome_code_save(by=first_reviewer, code="restored", reason_en="x")
    saved = outcome_code_save(by=manager, code="restored", reason_en="Restored {reference}: no violation.")
    assert saved.reason_en == "Restored {reference}: no violation."
    audit = AuditEvent.objects.get(action="outcome_code.update")
    assert audit.before["reason_en"].startswith("Your appeal") and audit.after["reason_en"].startswith("Restored")
    with pytest.raises(ValidationFailed) as exc:
        outcome_code_save(by=manager, code="new_code", outcome="maybe", label_en="x", label_zh="x", reason_en="x", reason_zh="x")
    assert "outcome" in exc.value.fields


def test_admin_edit_page_saves_through_the_service(db, manager):
    manager.is_superuser = False
    client = Client()
    client.force_login(manager)
    code = OutcomeCode.objects.get(code="restored")
    r = client.get(f"/admin/appeals/outcomecode/{code.pk}/change/")
    assert r.status_code == 200, r.status_code
