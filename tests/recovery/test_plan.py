"""The recovery plan: built on submit from the kind's templates, dated from the ban, re-dated
from the restoring decision; the applicant ticks steps; tenancy; the API's error codes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.audit.models import AuditEvent
from appeals.recovery.models import RecoveryPlan, RecoveryStep, RecoveryStepTemplate
from appeals.recovery.services import recovery_plan_build, recovery_step_tick
from appeals.shared.exceptions import NotFound
from tests.recovery.conftest import approve, reject

pytestmark = pytest.mark.django_db


def steps(appeal):
    return list(RecoveryStep.objects.filter(plan__appeal=appeal).order_by("order"))


def test_the_migration_seeds_steps_for_each_of_the_seven_kinds_in_both_languages():
    kinds = set(RecoveryStepTemplate.objects.values_list("kind", flat=True))
    assert kinds == {"desktop_logout", "cannot_be_added", "adds_restricted", "requests_fail", "short_ban",
                     "permanent_ban", "entity_ban"}
    for t in RecoveryStepTemplate.objects.all():
        assert t.title_en and t.title_zh and t.text_en and t.text_zh
    unban_first = RecoveryStepTemplate.objects.get(kind="requests_fail", order=10)
    assert unban_first.title_en == "Unban the bound personal account first" and unban_first.title_zh == "先解封绑定的个人账号"


def test_submit_builds_the_plan_dated_from_the_ban_and_the_decision_dates_the_rest(restricted_submitted, banned_at,
                                                                                   first_reviewer, second_reviewer):
    ban_day = timezone.localdate(banned_at)
    stop, pause, resume = steps(restricted_submitted)
    assert stop.title_en == "Stop outbound adds now" and stop.anchor == "ban"
    assert (stop.starts_on, stop.ends_on) == (ban_day, None)
    # After the decision: not dated before the account is restored.
    assert pause.title_en == "Pause adds for a week" and pause.starts_on is None and pause.ends_on is None
    assert resume.starts_on is None
    assert AuditEvent.objects.filter(action="recovery.plan_create", target_id=restricted_submitted.reference).count() == 1

    appeal = approve(restricted_submitted, first_reviewer, second_reviewer)
    decided = timezone.localdate(appeal.decided_at)
    stop, pause, resume = steps(appeal)
    assert (stop.starts_on, stop.ends_on) == (ban_day, None)
    assert (pause.starts_on, pause.ends_on) == (decided, decided + timedelta(days=7))
    assert pause.remind_at_end and pause.reminded_at is None
    assert (resume.starts_on, resume.ends_on) == (decided + timedelta(days=7), None)
    assert AuditEvent.objects.filter(action="recovery.plan_redate", target_id=appeal.reference).count() == 1


def test_a_refused_appeal_leaves_the_post_decision_steps_undated(restricted_submitted, first_reviewer, second_reviewer):
    appeal = reject(restricted_submitted, first_reviewer, second_reviewer)
    assert [s.starts_on for s in steps(appeal)][1:] == [None, None]


def test_the_applicant_can_make_the_plan_while_drafting_and_tick_steps(api_as, restricted_draft, enterprise_admin):
    client = api_as(enterprise_admin)
    url = f"/api/v1/appeals/{restricted_draft.reference}/recovery-plan/"
    r = client.get(url)
    assert r.status_code == 404 and r.json()["code"] == "recovery_plan_missing"
    r = client.post(url)
    assert r.status_code == 201, r.json()
    assert [s["title"] for s in r.json()["steps"]][0] == "Stop outbound adds now"
    assert client.post(url).status_code == 200  # made already: re-dated, not doubled
    assert RecoveryPlan.objects.filter(appeal=restricted_draft).count() == 1

    step_id = r.json()["steps"][0]["id"]
    r = client.post(f"{url}steps/{step_id}/", {"done": True}, format="json")
    assert r.status_code == 200 and r.json()["done"] is True and r.json()["done_at"]
    event = AuditEvent.objects.filter(action="recovery.step_tick").latest("position")
    assert event.actor == enterprise_admin and event.after["done"] is True and event.target_id == restricted_draft.reference
    r = client.post(f"{url}steps/{step_id}/", {"done": False}, format="json")
    assert r.json()["done"] is False and r.json()["done_at"] is None

    r = client.get(url, {"language": "zh-hans"})
    assert r.json()["steps"][0]["title"] == "立即停止主动加好友"

    # Bad input is a field error; an unknown step a documented 404.
    r = client.post(f"{url}steps/{step_id}/", {"done": "perhaps"}, format="json")
    assert r.status_code == 400 and "done" in r.json()["fields"]
    r = client.post(f"{url}steps/999999/", {"done": True}, format="json")
    assert r.status_code == 404 and r.json()["code"] == "recovery_step_not_found"


def test_another_enterprise_sees_nothing_and_the_desk_cannot_tick(api_as, restricted_submitted, other_admin, first_reviewer):
    ref = restricted_submitted.reference
    step = steps(restricted_submitted)[0]
    outsider = api_as(other_admin)
    assert outsider.get(f"/api/v1/appeals/{ref}/recovery-plan/").status_code == 404
    assert outsider.post(f"/api/v1/appeals/{ref}/recovery-plan/").status_code == 404
    assert outsider.post(f"/api/v1/appeals/{ref}/recovery-plan/steps/{step.pk}/", {"done": True}, format="json").status_code == 404
    assert outsider.get(f"/api/v1/appeals/{ref}/self-check/").status_code == 404

    desk = api_as(first_reviewer)
    assert desk.get(f"/api/v1/appeals/{ref}/recovery-plan/").status_code == 200
    r = desk.post(f"/api/v1/appeals/{ref}/recovery-plan/steps/{step.pk}/", {"done": True}, format="json")
    assert r.status_code == 403
    assert not RecoveryStep.objects.get(pk=step.pk).done


def test_a_step_of_another_case_is_not_found_through_this_one(restricted_submitted, draft_appeal, enterprise_admin):
    other_plan = recovery_plan_build(appeal=draft_appeal, by=enterprise_admin)
    foreign = other_plan.steps.first()
    with pytest.raises(NotFound):
        recovery_step_tick(appeal=restricted_submitted, by=enterprise_admin, step_id=foreign.pk, done=True)
