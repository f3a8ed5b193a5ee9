"""Completeness: the required kinds depend on the incident, shown as a checklist, guard on submit."""

import pytest

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as svc
from appeals.models import AppealState, IncidentKind, Severity
from appeals.shared.exceptions import GuardFailed
from tests import factories
from tests.evidence import files
from tests.evidence.conftest import attach_required_evidence

pytestmark = pytest.mark.django_db

BASE = {"ban_notice", "admin_id_front", "admin_id_back", "authorization_letter"}


def _appeal(enterprise_admin, account, kind, severity):
    incident = factories.IncidentFactory(account=account, created_by=enterprise_admin, kind=kind, severity=severity)
    return appeal_services.appeal_create(by=enterprise_admin, incident=incident, statement="Please lift it.",
                                         contact_phone="13912345678")


@pytest.mark.parametrize(
    ("kind", "severity", "extra"),
    [
        (IncidentKind.SHORT_BAN, Severity.MEDIUM, set()),
        (IncidentKind.ENTITY_BAN, Severity.MEDIUM, {"business_license"}),
        (IncidentKind.PERMANENT_BAN, Severity.SEVERE, {"operation_log"}),
        (IncidentKind.ENTITY_BAN, Severity.SEVERE, {"business_license", "operation_log"}),
    ],
)
def test_required_kinds_depend_on_the_incident(enterprise_admin, account, kind, severity, extra):
    appeal = _appeal(enterprise_admin, account, kind, severity)
    assert set(svc.evidence_required_kinds(appeal)) == BASE | extra


def test_submit_is_refused_until_the_checklist_is_complete(enterprise_admin, account):
    appeal = _appeal(enterprise_admin, account, IncidentKind.ENTITY_BAN, Severity.SEVERE)
    with pytest.raises(GuardFailed) as err:
        appeal_services.appeal_submit(appeal=appeal, by=enterprise_admin)
    assert err.value.code == "evidence_incomplete"
    assert len(err.value.fields["evidence"]) == 6
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFT

    items = attach_required_evidence(appeal, enterprise_admin)
    checklist = {e.kind: e for e in svc.evidence_checklist(appeal)}
    assert all(e.satisfied and e.required for e in checklist.values())
    assert len(items) == 6
    appeal = appeal_services.appeal_submit(appeal=appeal, by=enterprise_admin)
    assert appeal.state in (AppealState.SUBMITTED, AppealState.FIRST_REVIEW)


def test_checklist_lists_what_is_missing_and_extras(enterprise_admin, draft_appeal):
    svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice", file=files.upload("n.png", files.image_bytes("PNG")))
    svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("o.png", files.image_bytes("PNG")))
    checklist = {e.kind: e for e in svc.evidence_checklist(draft_appeal)}
    assert checklist["ban_notice"].satisfied and checklist["ban_notice"].count == 1
    assert not checklist["admin_id_front"].satisfied
    assert checklist["other"].required is False and checklist["other"].satisfied
    missing = {e.kind for e in svc.evidence_missing(draft_appeal)}
    assert missing == {"admin_id_front", "admin_id_back", "authorization_letter"}


def test_the_rule_set_is_read_from_settings(enterprise_admin, draft_appeal, settings):
    settings.EVIDENCE_REQUIRED = {**settings.EVIDENCE_REQUIRED, "ALWAYS": ["ban_notice"]}
    svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice", file=files.upload("n.png", files.image_bytes("PNG")))
    appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    assert appeal.state != AppealState.DRAFT
