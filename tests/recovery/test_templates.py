"""Managers edit the step templates (texts in both languages, periods): over the API and on
their page, audited; a change applies to plans made afterwards, never to plans already made."""

import pytest
from django.test import Client

from appeals.audit.models import AuditEvent
from appeals.core.services import appeals as svc
from appeals.recovery.models import RecoveryStep, RecoveryStepTemplate
from appeals.recovery.services import recovery_plan_build
from tests import factories

pytestmark = pytest.mark.django_db


def pause_template():
    return RecoveryStepTemplate.objects.get(kind="adds_restricted", title_en="Pause adds for a week")


def test_a_manager_changes_texts_and_period_over_the_api_audited(api_as, manager, restricted_draft, draft_appeal,
                                                                  enterprise_admin):
    old_plan = recovery_plan_build(appeal=restricted_draft, by=enterprise_admin)
    t = pause_template()
    r = api_as(manager).patch(f"/api/v1/recovery/templates/{t.pk}/", {
        "title_en": "Pause adds for ten days", "title_zh": "暂停加好友十天", "duration_days": 10}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["duration_days"] == 10 and r.json()["title_zh"] == "暂停加好友十天"
    event = AuditEvent.objects.filter(action="recovery_template.update").latest("position")
    assert event.actor == manager and event.target_id == str(t.pk)
    assert event.before["duration_days"] == 7 and event.after["duration_days"] == 10
    assert event.before["title_en"] == "Pause adds for a week"

    # The plan made before keeps its copy; a new plan of the kind takes the new text and period.
    kept = RecoveryStep.objects.get(plan=old_plan, template=t)
    assert (kept.title_en, kept.duration_days) == ("Pause adds for a week", 7)
    incident = factories.IncidentFactory(account=restricted_draft.incident.account, created_by=enterprise_admin,
                                         kind="adds_restricted")
    fresh = svc.appeal_create(by=enterprise_admin, incident=incident, statement="Second account.", contact_phone="13812345678")
    new_step = RecoveryStep.objects.get(plan=recovery_plan_build(appeal=fresh, by=enterprise_admin), template=t)
    assert (new_step.title_en, new_step.title_zh, new_step.duration_days) == ("Pause adds for ten days", "暂停加好友十天", 10)


def test_create_list_and_delete_templates(api_as, manager):
    client = api_as(manager)
    r = client.post("/api/v1/recovery/templates/", {
        "kind": "short_ban", "order": 40, "anchor": "decision", "offset_days": 7, "duration_days": 14, "remind_at_end": True,
        "title_en": "Check the complaint rate", "title_zh": "检查投诉率", "text_en": "", "text_zh": ""}, format="json")
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert AuditEvent.objects.filter(action="recovery_template.create", target_id=str(pk)).exists()
    listed = client.get("/api/v1/recovery/templates/", {"kind": "short_ban"}).json()
    assert {t["kind"] for t in listed} == {"short_ban"} and pk in [t["id"] for t in listed]
    assert client.delete(f"/api/v1/recovery/templates/{pk}/").status_code == 204
    assert not RecoveryStepTemplate.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.get(action="recovery_template.delete", target_id=str(pk)).before["title_en"] == "Check the complaint rate"
    assert client.get(f"/api/v1/recovery/templates/{pk}/").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"duration_days": 999}, "duration_days"),
    ({"offset_days": -1}, "offset_days"),
    ({"kind": "alien_invasion"}, "kind"),
    ({"duration_days": 0, "remind_at_end": True}, "remind_at_end"),
    ({"title_en": ""}, "title_en"),
    ({"anchor": "tomorrow"}, "anchor"),
])
def test_bad_input_is_a_field_error(api_as, manager, body, field):
    t = pause_template()
    r = api_as(manager).patch(f"/api/v1/recovery/templates/{t.pk}/", body, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["fields"]
    assert RecoveryStepTemplate.objects.get(pk=t.pk).duration_days == 7


def test_only_managers_edit_templates(api_as, enterprise_admin, first_reviewer):
    t = pause_template()
    for user in (enterprise_admin, first_reviewer):
        client = api_as(user)
        assert client.get("/api/v1/recovery/templates/").status_code == 403
        assert client.patch(f"/api/v1/recovery/templates/{t.pk}/", {"duration_days": 1}, format="json").status_code == 403
    assert api_as(None).get("/api/v1/recovery/templates/").status_code == 401
    assert RecoveryStepTemplate.objects.get(pk=t.pk).duration_days == 7


def test_the_managers_page_edits_a_template_and_says_changes_apply_to_new_plans(manager, enterprise_admin):
    client = Client()
    client.force_login(manager)
    page = client.get("/recovery/templates/").content.decode()
    assert "Changes apply to plans made from now on" in page
    assert "Unban the bound personal account first" in page
    t = pause_template()
    form = client.get(f"/recovery/templates/{t.pk}/")
    assert form.status_code == 200
    data = {"kind": t.kind, "order": t.order, "anchor": t.anchor, "title_en": t.title_en, "title_zh": "暂停加好友七天",
            "text_en": t.text_en, "text_zh": t.text_zh, "offset_days": 0, "duration_days": 5, "remind_at_end": "on",
            "active": "on"}
    r = client.post(f"/recovery/templates/{t.pk}/", data)
    assert r.status_code == 302
    t.refresh_from_db()
    assert (t.title_zh, t.duration_days) == ("暂停加好友七天", 5)
    assert AuditEvent.objects.filter(action="recovery_template.update", target_id=str(t.pk), actor=manager).exists()
    r = client.post(f"/recovery/templates/{t.pk}/", {**data, "duration_days": 0})  # a reminder needs a period
    assert r.status_code == 400 and "set the period in days" in r.content.decode()

    applicant = Client()
    applicant.force_login(enterprise_admin)
    assert applicant.get("/recovery/templates/").status_code == 403
    assert applicant.post(f"/recovery/templates/{t.pk}/delete/").status_code == 403


def test_the_managers_page_in_chinese(manager):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(manager)
    page = client.get("/recovery/templates/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "先解封绑定的个人账号" in page and "暂停加好友一周" in page
