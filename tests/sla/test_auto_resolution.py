"""Automatic resolution of minor cases: the rule, each condition failing once, the reopen path."""

from datetime import timedelta

import pytest

from appeals.core.services import appeals as svc
from appeals.models import AppealEvent, AppealSla, AppealState, AuditEvent
from appeals.shared.exceptions import GuardFailed, ValidationFailed
from appeals.sla.auto_resolution import (
    REQUIRED_CONDITIONS,
    appeal_auto_resolve,
    appeal_reopen,
    auto_resolution_rule,
)
from appeals.sla.tasks import sla_auto_resolve
from tests import factories
from tests.sla.conftest import file_case

pytestmark = pytest.mark.django_db

# The three conditions verification and evidence register; here they read a per-test table so
# that each can fail alone (test_real_conditions_... below drives the real ones).
PLUGGED = ("applicant_verified", "evidence_complete", "no_risk_flags")


@pytest.fixture
def plugged_conditions(monkeypatch):
    from appeals.core import plugins

    failing: dict[str, str] = {}
    for name in PLUGGED:
        monkeypatch.setitem(plugins._conditions, name, lambda appeal, name=name: failing.get(name))
    return failing


@pytest.fixture
def minor_case(enterprise_admin, account):
    from django.utils import timezone

    return file_case(admin=enterprise_admin, account=account, severity="minor", kind="desktop_logout", when=timezone.now())


def test_required_conditions_are_the_documented_five():
    assert REQUIRED_CONDITIONS == ("minor_severity", "no_recent_incident", "applicant_verified", "evidence_complete", "no_risk_flags")


def test_all_conditions_hold_case_is_approved_as_an_automated_decision(minor_case, plugged_conditions):
    assert auto_resolution_rule(minor_case) == (True, [])
    appeal = appeal_auto_resolve(appeal=minor_case)
    assert appeal.state == AppealState.APPROVED and appeal.decided_at is not None
    event = AppealEvent.objects.get(appeal=appeal, action="auto_approve")
    assert event.actor is None
    assert event.data["rule"] == "minor-auto-resolution-v1" and event.data["automated"] is True
    assert appeal.outcome_code == event.data["outcome_code"] == "restored" and "is approved" in appeal.decision_reason_en
    audit = AuditEvent.objects.get(action="appeal.automated_decision", target_id=appeal.reference)
    assert audit.after["rule"] == "minor-auto-resolution-v1"
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.auto_rule == "minor-auto-resolution-v1" and sla.met is True and sla.outcome == "approved"


@pytest.mark.parametrize("failing", REQUIRED_CONDITIONS)
def test_each_condition_failing_keeps_the_case_for_a_reviewer(failing, enterprise_admin, account, plugged_conditions):
    from django.utils import timezone

    severity = "medium" if failing == "minor_severity" else "minor"
    if failing == "no_recent_incident":
        factories.IncidentFactory(account=account, created_by=enterprise_admin, banned_at=timezone.now() - timedelta(days=40))
    if failing in PLUGGED:
        plugged_conditions[failing] = "not yet"
    appeal = file_case(admin=enterprise_admin, account=account, severity=severity, when=timezone.now())

    ok, reasons = auto_resolution_rule(appeal)
    assert not ok
    assert [r.split(":")[0] for r in reasons] == [failing]
    appeal = appeal_auto_resolve(appeal=appeal)
    assert appeal.state == AppealState.FIRST_REVIEW
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.auto_checked_at is not None and sla.auto_reasons == reasons


def test_an_incident_older_than_six_months_does_not_count(enterprise_admin, account, plugged_conditions):
    from django.utils import timezone

    factories.IncidentFactory(account=account, created_by=enterprise_admin, banned_at=timezone.now() - timedelta(days=200))
    appeal = file_case(admin=enterprise_admin, account=account, severity="minor", when=timezone.now())
    assert auto_resolution_rule(appeal) == (True, [])


def test_real_conditions_hold_for_a_case_that_passed_the_intake_guards(minor_case):
    """No stand-ins: the evidence, verification and risk conditions as registered by their plug-ins."""
    assert auto_resolution_rule(minor_case) == (True, [])
    assert appeal_auto_resolve(appeal=minor_case).state == AppealState.APPROVED


def test_unregistered_required_condition_never_approves(minor_case, monkeypatch):
    from appeals.core import plugins

    for name in PLUGGED:
        monkeypatch.delitem(plugins._conditions, name, raising=False)
    ok, reasons = auto_resolution_rule(minor_case)
    assert not ok
    assert [r.split(":")[0] for r in reasons] == list(PLUGGED)
    assert appeal_auto_resolve(appeal=minor_case).state == AppealState.FIRST_REVIEW


def test_beat_task_resolves_eligible_cases_once_and_skips_claimed_ones(enterprise_admin, account, first_reviewer, plugged_conditions):
    from django.utils import timezone

    eligible = file_case(admin=enterprise_admin, account=account, severity="minor", when=timezone.now())
    other_account = factories.AccountFactory(enterprise=account.enterprise)
    claimed = file_case(admin=enterprise_admin, account=other_account, severity="minor", when=timezone.now())
    svc.appeal_claim(appeal=claimed, by=first_reviewer)
    assert sla_auto_resolve() == 1
    eligible.refresh_from_db()
    claimed.refresh_from_db()
    assert eligible.state == AppealState.APPROVED
    assert claimed.state == AppealState.FIRST_REVIEW
    assert sla_auto_resolve() == 0


def test_second_reviewer_reopens_an_automated_decision(minor_case, plugged_conditions, second_reviewer):
    appeal = appeal_auto_resolve(appeal=minor_case)
    with pytest.raises(ValidationFailed):
        appeal_reopen(appeal=appeal, by=second_reviewer, comment=" ")
    appeal = appeal_reopen(appeal=appeal, by=second_reviewer, comment="截图与日志不符")
    assert appeal.state == AppealState.SECOND_REVIEW
    assert appeal.second_reviewer == second_reviewer and appeal.decided_at is None
    assert appeal.outcome_code == "" and appeal.decision_reason_en == ""  # undecided again
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.closed_at is None and sla.running_since is not None


def test_a_human_decision_cannot_be_reopened(second_review_appeal, second_reviewer, manager):
    appeal = svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="approve", outcome_code="restored")
    other = factories.UserFactory(username="reviewer-3", is_second_reviewer=True)
    with pytest.raises(GuardFailed) as exc:
        appeal_reopen(appeal=appeal, by=other, comment="再看看")
    assert exc.value.code == "not_automated"
