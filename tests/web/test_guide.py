"""The guided filing path on the case page: the stepper, the refusal list, the verification
panel on top after submit, the reviewer's question above the reply form, the CSV template."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.core.services import appeals as appeal_services
from appeals.models import Appeal, AppealState
from tests import builders

pytestmark = pytest.mark.django_db


def _page(client, appeal):
    response = client.get(f"/appeals/{appeal.reference}/")
    assert response.status_code == 200
    return response, response.content.decode()


def _pos(body: str, marker: str) -> int:
    index = body.find(marker)
    assert index >= 0, marker
    return index


def test_draft_without_evidence_is_on_the_evidence_step_with_each_missing_item_linked(login, enterprise_admin, draft_appeal):
    response, body = _page(login(enterprise_admin), draft_appeal)
    stepper = response.context["stepper"]
    assert stepper.current == "evidence"
    assert [s.status for s in stepper.steps] == ["done", "done", "current", "todo", "todo", "todo", "todo"]
    assert stepper.waiting_for_applicant
    hrefs = [t["href"] for t in stepper.todo]
    assert "#slot-ban_notice" in hrefs and "#slot-authorization_letter" in hrefs
    # Each link has its target on the page.
    for href in hrefs:
        assert f'id="{href[1:]}"' in body
    assert 'aria-current="step"' in body and 'data-step="evidence"' in body


def test_complete_draft_is_on_the_submit_step(login, enterprise_admin, complete_draft):
    response, _body = _page(login(enterprise_admin), complete_draft)
    stepper = response.context["stepper"]
    assert stepper.current == "submit" and stepper.todo == []
    assert [s.status for s in stepper.steps][:3] == ["done", "done", "done"]


def test_stepper_current_step_per_state(login, enterprise_admin, first_reviewer, submitted_appeal):
    client = login(enterprise_admin)
    # In first review: nothing for the applicant to do.
    response, _ = _page(client, submitted_appeal)
    assert response.context["stepper"].current == "review"
    assert not response.context["stepper"].waiting_for_applicant
    appeal = appeal_services.appeal_claim(appeal=submitted_appeal, by=first_reviewer)
    appeal = appeal_services.appeal_first_review(appeal=appeal, by=first_reviewer, decision="request_info", comment="请补充授权书原件照片")
    response, _ = _page(client, appeal)
    assert response.context["stepper"].current == "review" and response.context["stepper"].waiting_for_applicant
    appeal = appeal_services.appeal_withdraw(appeal=appeal, by=enterprise_admin, comment="不再需要")
    response, _ = _page(client, appeal)
    steps = response.context["stepper"].steps
    assert response.context["stepper"].current == "decision" and all(s.status == "done" for s in steps)


def test_refused_submit_is_a_list_linking_each_missing_item_to_its_slot(login, enterprise_admin, draft_appeal):
    client = login(enterprise_admin)
    response = client.post(f"/appeals/{draft_appeal.reference}/", {"action": "submit"})
    assert response.status_code == 409
    body = response.content.decode()
    block = body[_pos(body, 'id="refusals"'):]
    block = block[:block.index("</div>")]
    items = re.findall(r'<li><a href="#slot-([a-z_]+)">([^<]+)</a></li>', block)
    kinds = [k for k, _label in items]
    assert len(items) == len(re.findall(r"<li", block)) >= 4  # one line per missing item, every one a link
    assert {"ban_notice", "admin_id_front", "admin_id_back", "authorization_letter"} <= set(kinds)
    for kind in kinds:
        assert f'id="slot-{kind}"' in body


def test_save_and_submit_from_the_form_lands_on_the_refusal_list(login, enterprise_admin, account):
    data = {
        "account": account.pk, "kind": "permanent_ban", "reason": "user_reports",
        "banned_at": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "notice_text": "", "statement": "请求解封。", "contact_phone": "13700001111", "submit_now": "1",
    }
    client = login(enterprise_admin)
    response = client.post("/appeals/new/", data, follow=True)
    appeal = Appeal.objects.get()
    body = response.content.decode()
    assert appeal.state == AppealState.DRAFT
    assert 'href="#slot-operation_log"' in body and 'id="slot-operation_log"' in body  # permanent ban: severe
    assert len(re.findall(r'<li><a href="#slot-', body[_pos(body, 'id="refusals"'):])) >= 5
    # Shown once: a reload no longer shows the refusal (the stepper still lists what is missing).
    again = client.get(f"/appeals/{appeal.reference}/").content.decode()
    assert 'id="refusals"' not in again and 'href="#slot-operation_log"' in again


def test_after_submit_the_verifications_are_on_top_with_where_each_was_sent(login, enterprise_admin, complete_draft):
    appeal = appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    assert appeal.state == AppealState.SUBMITTED
    response, body = _page(login(enterprise_admin), appeal)
    assert response.context["stepper"].current == "verify"
    verification, withdraw, evidence = _pos(body, 'id="verification"'), _pos(body, 'id="action-withdraw"'), _pos(body, 'id="evidence"')
    assert verification < withdraw < evidence
    todo = [t["text"] for t in response.context["stepper"].todo]
    phone, email = appeal.enterprise.legal_rep_mobile, appeal.enterprise.admin_email
    assert any(phone[:3] in t and phone[-4:] in t and phone not in t for t in todo)  # masked destination
    assert any(email.split("@")[1] in t for t in todo)
    # Once verified and in review, the panel goes back below the actions.
    builders.pass_verification(appeal)
    _response, body = _page(login(enterprise_admin), Appeal.objects.get(pk=appeal.pk))
    assert _pos(body, 'id="action-withdraw"') < _pos(body, 'id="verification"')


def test_needs_info_shows_the_reviewers_question_above_the_reply_form(login, enterprise_admin, first_reviewer, submitted_appeal):
    appeal = appeal_services.appeal_claim(appeal=submitted_appeal, by=first_reviewer)
    appeal = appeal_services.appeal_first_review(appeal=appeal, by=first_reviewer, decision="request_info", comment="请补充授权书原件照片")
    _response, body = _page(login(enterprise_admin), appeal)
    question = _pos(body, 'id="rfi-question"')
    assert question < _pos(body, 'id="action-resubmit"')
    assert "请补充授权书原件照片" in body[question:_pos(body, 'id="action-resubmit"')]


def test_operation_log_template_download_matches_the_documented_layout(login, enterprise_admin):
    response = login(enterprise_admin).get("/evidence/operation-log-template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese sample text
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["time", "operator", "account_type", "action", "target", "message", "ip", "device_id"]
    assert all(len(r) == 8 for r in rows[1:]) and len(rows) >= 2
    # The same layout is written in docs/evidence.md.
    from pathlib import Path

    assert ",".join(rows[0]) in (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text()


def test_the_template_and_the_explained_layout_are_beside_the_upload_area(login, enterprise_admin, draft_appeal):
    _response, body = _page(login(enterprise_admin), draft_appeal)
    assert 'href="/evidence/operation-log-template.csv"' in body
    layout = body[_pos(body, 'id="log-layout"'):]
    for column in ("time", "operator", "account_type", "action", "target", "message", "ip", "device_id"):
        assert f"<code>{column}</code>" in layout


def test_new_appeal_form_names_the_evidence_and_keeps_the_emergency_entry(login, enterprise_admin, account):
    body = login(enterprise_admin).get("/appeals/new/").content.decode()
    assert 'id="evidence-needed"' in body and "/evidence/operation-log-template.csv" in body
    # The emergency entry stays first on the applicant's dashboard, and its form stays marked urgent.
    dashboard = login(enterprise_admin).get("/dashboard/").content.decode()
    main = dashboard[_pos(dashboard, "<main"):]
    assert main.find('<a class="emergency"') == main.find("<a ") >= 0
    urgent = login(enterprise_admin).get("/appeals/new/?emergency=1").content.decode()
    assert _pos(urgent, 'class="card urgent"') < _pos(urgent, 'id="evidence-needed"')


def test_the_desk_sees_the_stage_not_the_applicants_instructions(login, first_reviewer, submitted_appeal):
    response, body = _page(login(first_reviewer), submitted_appeal)
    stepper = response.context["stepper"]
    assert stepper.current == "review" and not stepper.waiting_for_applicant and stepper.todo == []
    assert stepper.next_action == "In first review."
    assert "Your next step" not in body
