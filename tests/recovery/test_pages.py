"""The plan panel on the case page, for the applicant (with the ticks) and the desk (read only),
in English and Chinese; the tick and the plan button work from the page."""

import pytest
from django.test import Client

from appeals.audit.models import AuditEvent
from appeals.recovery.models import RecoveryPlan, RecoveryStep

pytestmark = pytest.mark.django_db


def page(user, reference, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get(f"/appeals/{reference}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_applicant_sees_the_dated_checklist_and_ticks_a_step(restored_appeal, enterprise_admin):
    pause = RecoveryStep.objects.get(plan__appeal=restored_appeal, remind_at_end=True)
    html = page(enterprise_admin, restored_appeal.reference)
    assert 'id="recovery-plan"' in html and "Pause adds for a week" in html
    assert f"{pause.starts_on:%Y-%m-%d}" in html and f"{pause.ends_on:%Y-%m-%d}" in html
    assert f'action="/appeals/{restored_appeal.reference}/recovery-plan/steps/{pause.pk}/"' in html

    client = Client()
    client.force_login(enterprise_admin)
    r = client.post(f"/appeals/{restored_appeal.reference}/recovery-plan/steps/{pause.pk}/", {"done": "on"})
    assert r.status_code == 302
    assert RecoveryStep.objects.get(pk=pause.pk).done
    assert AuditEvent.objects.filter(action="recovery.step_tick", actor=enterprise_admin).exists()


def test_the_desk_sees_the_checklist_without_ticks(restored_appeal, first_reviewer):
    html = page(first_reviewer, restored_appeal.reference)
    assert "Pause adds for a week" in html
    assert "/recovery-plan/steps/" not in html


@pytest.mark.parametrize("user", ["enterprise_admin", "first_reviewer"])
def test_the_panel_in_chinese(request, restored_appeal, user):
    html = page(request.getfixturevalue(user), restored_appeal.reference, "zh-hans")
    assert '<html lang="zh-hans"' in html
    assert "立即停止主动加好友" in html and "暂停加好友一周" in html
    assert "Pause adds for a week" not in html


def test_a_draft_gets_a_button_that_makes_the_plan(restricted_draft, enterprise_admin, other_admin):
    html = page(enterprise_admin, restricted_draft.reference)
    assert f'action="/appeals/{restricted_draft.reference}/recovery-plan/"' in html
    outsider = Client()
    outsider.force_login(other_admin)
    assert outsider.post(f"/appeals/{restricted_draft.reference}/recovery-plan/").status_code == 404
    client = Client()
    client.force_login(enterprise_admin)
    assert client.post(f"/appeals/{restricted_draft.reference}/recovery-plan/").status_code == 302
    assert RecoveryPlan.objects.filter(appeal=restricted_draft).exists()
    assert "Stop outbound adds now" in page(enterprise_admin, restricted_draft.reference)
