"""The transition table, applied: every move allowed and refused, guards, separation of duties."""

import pytest

from appeals.core.services import appeals as svc
from appeals.core.workflow import TABLE, Action, apply_transition, register_guard
from appeals.models import AppealEvent, AppealState, AuditEvent
from appeals.shared.exceptions import GuardFailed, InvalidTransition, PermissionDenied, ValidationFailed
from tests import builders

S = AppealState
pytestmark = pytest.mark.django_db


def test_submit_moves_draft_into_first_review_queue_with_timeline(complete_draft, enterprise_admin):
    appeal = svc.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    assert appeal.state == S.SUBMITTED  # held until both proofs are given
    appeal = builders.pass_verification(appeal, by=enterprise_admin)
    assert appeal.state == S.FIRST_REVIEW
    assert appeal.submitted_at is not None
    events = list(AppealEvent.objects.filter(appeal=appeal).values_list("action", "from_state", "to_state"))
    assert events == [("submit", "draft", "submitted"), ("accept", "submitted", "first_review")]
    assert AuditEvent.objects.filter(action="appeal.submit", target_id=appeal.reference).count() == 1


def test_full_path_approve(second_review_appeal, second_reviewer, first_reviewer):
    appeal = svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    assert appeal.second_reviewer == second_reviewer
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="approve", outcome_code="restored")
    assert appeal.state == S.APPROVED
    assert appeal.decided_at is not None
    assert appeal.first_reviewer == first_reviewer


def test_second_review_by_first_reviewer_is_refused(second_review_appeal, first_reviewer):
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_claim(appeal=second_review_appeal, by=first_reviewer)
    assert exc.value.code == "separation_of_duties"
    second_review_appeal.refresh_from_db()
    assert second_review_appeal.second_reviewer is None


def test_reassign_cannot_hand_second_review_to_first_reviewer(second_review_appeal, first_reviewer, manager):
    with pytest.raises(PermissionDenied):
        svc.appeal_reassign(appeal=second_review_appeal, by=manager, assignee=first_reviewer)


@pytest.mark.parametrize("decision", ["reject", "request_info", "escalate"])
def test_first_review_decisions_that_need_a_comment(claimed_appeal, first_reviewer, decision):
    with pytest.raises(ValidationFailed) as exc:
        svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision=decision, comment="  ")
    assert "comment" in exc.value.fields
    appeal = svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision=decision, comment="Because.")
    assert appeal.state == {"reject": S.SECOND_REVIEW, "request_info": S.NEEDS_INFO, "escalate": S.ESCALATED}[decision]


def test_resubmit_returns_to_the_stage_that_asked_and_keeps_the_reviewer(claimed_appeal, first_reviewer, enterprise_admin):
    svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="request_info", comment="Upload the license")
    appeal = svc.appeal_resubmit(appeal=claimed_appeal, by=enterprise_admin)
    assert appeal.state == S.FIRST_REVIEW
    assert appeal.first_reviewer == first_reviewer
    assert appeal.resume_state == ""


def test_return_to_first_review_clears_second_claim(second_review_appeal, second_reviewer):
    svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    with pytest.raises(ValidationFailed):
        svc.appeal_second_review(appeal=second_review_appeal, by=second_reviewer, decision="return")
    appeal = svc.appeal_second_review(appeal=second_review_appeal, by=second_reviewer, decision="return", comment="Check ID")
    assert appeal.state == S.FIRST_REVIEW
    assert appeal.second_reviewer is None


def test_manager_decides_escalated(claimed_appeal, first_reviewer, manager, second_reviewer):
    svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="escalate", comment="Call them")
    with pytest.raises(PermissionDenied):
        svc.appeal_decide_escalated(appeal=claimed_appeal, by=second_reviewer, decision="approve")
    appeal = svc.appeal_decide_escalated(appeal=claimed_appeal, by=manager, decision="approve", outcome_code="restored")
    assert appeal.state == S.APPROVED


def test_withdraw_before_decision_but_not_after(second_review_appeal, second_reviewer, enterprise_admin):
    svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    svc.appeal_second_review(appeal=second_review_appeal, by=second_reviewer, decision="reject", comment="Spam confirmed",
                             outcome_code="refused_violation_confirmed")
    with pytest.raises(InvalidTransition) as exc:
        svc.appeal_withdraw(appeal=second_review_appeal, by=enterprise_admin)
    assert "Rejected" in exc.value.message and "Withdraw" in exc.value.message


def test_only_claimer_may_decide(claimed_appeal, second_reviewer):
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_first_review(appeal=claimed_appeal, by=second_reviewer, decision="approve")
    assert exc.value.code == "not_claimer"


def test_claim_twice_refused(claimed_appeal, second_reviewer):
    with pytest.raises(GuardFailed) as exc:
        svc.appeal_claim(appeal=claimed_appeal, by=second_reviewer)
    assert exc.value.code == "already_claimed"


def test_applicant_cannot_review_and_reviewer_cannot_submit(submitted_appeal, draft_appeal, enterprise_admin, first_reviewer):
    with pytest.raises(PermissionDenied):
        svc.appeal_claim(appeal=submitted_appeal, by=enterprise_admin)


def test_other_enterprise_admin_cannot_act(incident, other_admin, enterprise_admin):
    appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement="x", contact_phone="13900000001")
    with pytest.raises(PermissionDenied):
        svc.appeal_submit(appeal=appeal, by=other_admin)


REFUSED_PAIRS = [(s.value, a.value) for s in S for a in Action if (s.value, a.value) not in TABLE]


@pytest.mark.parametrize(("state", "action"), REFUSED_PAIRS)
def test_every_pair_outside_the_table_is_refused_with_409(state, action, draft_appeal, superuser):
    """Force each state; every (state, action) not in the table is an InvalidTransition."""
    type(draft_appeal).objects.filter(pk=draft_appeal.pk).update(state=state)
    with pytest.raises(InvalidTransition) as exc:
        apply_transition(appeal=draft_appeal, action=action, by=superuser)
    assert exc.value.status == 409
    draft_appeal.refresh_from_db()
    assert draft_appeal.state == state


def test_pluggable_guard_refuses_submit(complete_draft, enterprise_admin):
    draft_appeal = complete_draft  # passes the registered guards; only this test's guard refuses
    calls = []

    def needs_paperwork(appeal, by, data):
        calls.append(appeal.pk)
        raise GuardFailed("Evidence missing", code="evidence_incomplete")

    from appeals.core import workflow

    register_guard(Action.SUBMIT, needs_paperwork)
    try:
        with pytest.raises(GuardFailed):
            svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    finally:
        workflow._guards[Action.SUBMIT].remove(needs_paperwork)
    draft_appeal.refresh_from_db()
    assert draft_appeal.state == S.DRAFT and calls == [draft_appeal.pk]
    assert not AppealEvent.objects.filter(appeal=draft_appeal).exists()


@pytest.mark.usefixtures("intake_guards_off")  # the guard mechanism alone: only this test's guard holds the case
def test_intake_guard_holds_case_in_submitted(draft_appeal, enterprise_admin):
    from appeals.core import workflow

    def unverified(appeal, by, data):
        raise GuardFailed("not verified", code="unverified")

    register_guard(Action.ACCEPT, unverified)
    try:
        appeal = svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    finally:
        workflow._guards[Action.ACCEPT].remove(unverified)
    assert appeal.state == S.SUBMITTED
    assert svc.appeal_try_accept(appeal=appeal).state == S.FIRST_REVIEW
