"""One appeal from filing to the decision mail, in the configuration users run.

Every intake guard on (evidence completeness on submit, both verification proofs before
review), PostgreSQL, the Redis broker and a real Celery worker process. The test never
delivers a message itself: the SMS code is read from the file the worker's SMS backend
wrote, the email link and the decision from the loopback SMTP server the worker mailed to.
"""

from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client

from appeals.models import EvidenceItem, LogAnalysis, Message, MessageState
from appeals.notifications import sms
from tests import builders
from tests.api.conftest import client_for
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def _mails(smtp_server, to: str, reference: str) -> list:
    return [m["message"] for m in smtp_server.messages if to in m["rcpt"] and m["message"]["X-Appeal-Reference"] == reference]


def _sms_to(phone: str) -> list[dict]:
    return [m for m in builders.worker_sms_files() if m["phone"] == phone]


@pytest.mark.django_db(transaction=True)
def test_file_evidence_submit_verify_two_reviews_decision_mail(
    celery_worker, smtp_server, enterprise, enterprise_admin, account, first_reviewer, second_reviewer
):
    # The production configuration, not a test variant of it.
    assert settings.VERIFICATION["REQUIRED"] is True
    assert settings.EVIDENCE["ENFORCE_COMPLETENESS_ON_SUBMIT"] is True
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://") and not settings.CELERY_TASK_ALWAYS_EAGER

    admin = client_for(enterprise_admin)

    # File: the incident, then the appeal (a permanent ban is severe: the operation log is required too).
    r = admin.post("/api/v1/incidents/", {"account": account.pk, "kind": "permanent_ban", "reason": "user_reports",
                                          "banned_at": "2026-11-30T09:00:00+08:00", "notice_text": "该账号已被永久封禁"}, format="json")
    assert r.status_code == 201, r.json()
    r = admin.post("/api/v1/appeals/", {"incident": r.json()["id"], "statement": "我们没有违规营销，请求解封。",
                                        "contact_phone": "13912345678"}, format="json")
    assert r.status_code == 201, r.json()
    reference = r.json()["reference"]

    # Submitting without evidence is refused by the completeness guard, naming what is missing.
    r = admin.post(f"/api/v1/appeals/{reference}/submit/")
    assert r.status_code == 409 and r.json()["code"] == "evidence_incomplete"
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "draft"

    # Upload every item the checklist asks for, through the API (as the case page's panel does).
    checklist = admin.get(f"/api/v1/appeals/{reference}/evidence/checklist/").json()
    assert checklist["complete"] is False
    required = sorted(row["kind"] for row in checklist["entries"] if row["required"])
    assert required == ["admin_id_back", "admin_id_front", "authorization_letter", "ban_notice", "operation_log"]
    for kind in required:
        r = admin.post(f"/api/v1/appeals/{reference}/evidence/", {"kind": kind, "file": builders.evidence_file(kind)})
        assert r.status_code == 201, r.content
    assert admin.get(f"/api/v1/appeals/{reference}/evidence/checklist/").json()["complete"] is True
    # The worker analyses the log (a task published after the upload's commit).
    wait_for(lambda: LogAnalysis.objects.filter(evidence__appeal__reference=reference, status="done").exists(), timeout=30)

    # Submit: held in `submitted` until both proofs are given; the worker sends the code and the link.
    r = admin.post(f"/api/v1/appeals/{reference}/submit/")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "submitted"
    phone, email = enterprise.legal_rep_mobile, enterprise.admin_email
    wait_for(lambda: Message.objects.filter(appeal__reference=reference, state=MessageState.SENT).count() == 2, timeout=30)
    wait_for(lambda: _sms_to(phone) and _mails(smtp_server, email, reference), timeout=10)
    assert sms.outbox == [] and mail.outbox == []  # nothing went through this process: the worker sent both

    (text,) = _sms_to(phone)
    code = text["params"]["code"]
    assert code in text["text"]
    (verification_mail,) = _mails(smtp_server, email, reference)
    link = builders.LINK_RE.search(verification_mail.get_content()).group(0)

    # Answer both: the code through the API, the link on the landing page (GET shows, POST confirms).
    r = admin.post(f"/api/v1/appeals/{reference}/verification/code/", {"code": code}, format="json")
    assert r.status_code == 200, r.json()
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "submitted"  # one proof is not enough
    browser = Client()
    assert browser.get(urlparse(link).path).status_code == 200
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "submitted"  # looking is not confirming
    assert browser.post(urlparse(link).path).status_code == 200
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "first_review"

    # First review: claim and recommend approval.
    r1 = client_for(first_reviewer)
    assert r1.post(f"/api/v1/appeals/{reference}/claim/").status_code == 200
    r = r1.post(f"/api/v1/appeals/{reference}/first-review/", {"decision": "approve", "comment": "Evidence checks out."},
                format="json")
    assert r.status_code == 200 and r.json()["state"] == "second_review", r.json()

    # The first reviewer cannot take the second review; another person claims it and approves.
    assert r1.post(f"/api/v1/appeals/{reference}/claim/").status_code == 403
    r2 = client_for(second_reviewer)
    assert r2.post(f"/api/v1/appeals/{reference}/claim/").json()["second_reviewer"] == second_reviewer.username
    r = r2.post(f"/api/v1/appeals/{reference}/second-review/", {"decision": "approve", "comment": "Agreed.", "outcome_code": "restored"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved", r.json()

    # The decision mail arrives over SMTP, once.
    wait_for(lambda: len(_mails(smtp_server, email, reference)) == 2, timeout=30)
    decision = _mails(smtp_server, email, reference)[-1]
    assert decision["Subject"].strip() == f"Appeal {reference} approved"
    assert "The ban will be lifted." in decision.get_content()

    events = admin.get(f"/api/v1/appeals/{reference}/timeline/").json()
    assert [e["action"] for e in events] == ["submit", "accept", "claim_first", "recommend_approve", "claim_second", "approve"]
    assert EvidenceItem.objects.filter(appeal__reference=reference).count() == 5
    # One row per message, each sent once: the code, the link, the decision.
    assert sorted(Message.objects.filter(appeal__reference=reference).values_list("template", "state", "attempts")) == [
        ("appeal_decided", "sent", 1), ("verification_code", "sent", 1), ("verification_email", "sent", 1)]
    assert len(_sms_to(phone)) == 1 and len(_mails(smtp_server, email, reference)) == 2
