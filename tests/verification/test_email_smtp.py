"""Email through Django's SMTP backend to a real SMTP server on loopback, in English and Chinese."""

import re

import pytest
from django.utils import translation

from appeals.core.services import appeals as appeal_services
from appeals.models import AppealState
from appeals.verification import services as svc
from tests import builders

from .conftest import LINK_RE, deliver_queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://appeals.example.com"
    return smtp_server


def _submit(draft_appeal, enterprise_admin, language):
    with translation.override(language):
        appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    deliver_queued()
    return appeal


def _only(smtp, to):
    found = [m for m in smtp.messages if to in m["to"]]
    assert found, f"nothing delivered to {to}"
    return found[-1]["message"]


def _link_from(smtp):
    """Read the verification link where it arrived: the loopback SMTP server."""
    return lambda appeal: LINK_RE.search(_only(smtp, appeal.enterprise.admin_email).get_content()).group("token")


def _subject(msg) -> str:
    # Python's compat32 folding puts a long encoded Subject on a continuation line
    # ("Subject: \n =?utf-8?b?...?="); the decoded value then starts with that fold's space.
    return msg["Subject"].strip()


def test_english_verification_email_over_smtp(smtp, complete_draft, enterprise_admin, enterprise, settings):
    appeal = _submit(complete_draft, enterprise_admin, "en")
    msg = _only(smtp, enterprise.admin_email)
    assert _subject(msg) == f"Appeal {appeal.reference} submitted: please confirm your email address"
    assert msg["From"] == settings.DEFAULT_FROM_EMAIL and msg["To"] == enterprise.admin_email
    assert msg["X-Appeal-Reference"] == appeal.reference and msg["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[0-9a-f]{32}@appeal-desk>", msg["Message-ID"])
    body = msg.get_content()
    assert f"Hello {enterprise.admin_name}" in body and "valid for 24 hours" in body
    link = LINK_RE.search(body)
    assert link and link.group(0).startswith("https://appeals.example.com/verify/email/")
    assert svc.verification_confirm_email(token=link.group("token")).status == "verified"


def test_chinese_verification_email_over_smtp(smtp, complete_draft, enterprise_admin, enterprise):
    appeal = _submit(complete_draft, enterprise_admin, "zh-hans")
    msg = _only(smtp, enterprise.admin_email)
    assert _subject(msg) == f"申诉 {appeal.reference} 已提交：请确认您的邮箱"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "李娜，您好" in body and "24 小时内有效" in body and "上海晨光贸易有限公司" in body
    token = LINK_RE.search(body).group("token")
    assert svc.verification_inspect_link(token=token).status == "valid"


def test_the_sms_text_follows_the_language_too(complete_draft, enterprise_admin, sms_outbox):
    _submit(complete_draft, enterprise_admin, "zh-hans")
    assert sms_outbox[-1].text.startswith("【申诉服务台】验证码 ") and "10 分钟内有效" in sms_outbox[-1].text


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_needs_info_and_decision_emails_carry_the_reviewers_reason(smtp, complete_draft, enterprise_admin, enterprise,
                                                                    first_reviewer, second_reviewer, language):
    appeal = _submit(complete_draft, enterprise_admin, language)
    appeal = builders.pass_verification(appeal, by=enterprise_admin, read_link=_link_from(smtp))
    appeal_services.appeal_claim(appeal=appeal, by=first_reviewer)
    # Desk staff work in English; the admin's mails stay in the language the admin submitted in.
    with translation.override("en"):
        appeal_services.appeal_first_review(appeal=appeal, by=first_reviewer, decision="request_info",
                                            comment="Upload the 7-day operation log (CSV).")
    deliver_queued()
    msg = _only(smtp, enterprise.admin_email)
    body = msg.get_content()
    assert "Upload the 7-day operation log (CSV)." in body
    if language == "en":
        assert _subject(msg) == f"Appeal {appeal.reference}: the reviewer needs more information"
    else:
        assert _subject(msg) == f"申诉 {appeal.reference}：审核人员需要补充材料" and "审核人员的说明" in body

    appeal_services.appeal_resubmit(appeal=appeal, by=enterprise_admin)
    appeal_services.appeal_first_review(appeal=appeal, by=first_reviewer, decision="reject", comment="Repeat offence.")
    appeal_services.appeal_claim(appeal=appeal, by=second_reviewer)
    appeal = appeal_services.appeal_second_review(appeal=appeal, by=second_reviewer, decision="reject",
                                                  comment="Complaint rate above the red line in the last 6 months.",
                                                  outcome_code="refused_repeat_offence")
    assert appeal.state == AppealState.REJECTED
    deliver_queued()
    msg = _only(smtp, enterprise.admin_email)
    body = msg.get_content()
    assert "Complaint rate above the red line in the last 6 months." in body
    if language == "en":
        assert _subject(msg) == f"Appeal {appeal.reference} rejected" and "REJECTED" in body
    else:
        assert _subject(msg) == f"申诉 {appeal.reference} 未通过" and "审核人员的意见" in body
    subjects = [m["message"]["Subject"] for m in smtp.messages]
    assert len(subjects) == 3  # verification, needs info, decided: one each


def test_approval_email(smtp, complete_draft, enterprise_admin, first_reviewer, second_reviewer, enterprise):
    submitted_appeal = builders.submitted_appeal(complete_draft, enterprise_admin, read_link=_link_from(smtp))
    appeal_services.appeal_claim(appeal=submitted_appeal, by=first_reviewer)
    appeal_services.appeal_first_review(appeal=submitted_appeal, by=first_reviewer, decision="approve")
    appeal_services.appeal_claim(appeal=submitted_appeal, by=second_reviewer)
    appeal_services.appeal_second_review(appeal=submitted_appeal, by=second_reviewer, decision="approve",
                                         outcome_code="restored")
    deliver_queued()
    msg = _only(smtp, enterprise.admin_email)
    assert _subject(msg) == f"Appeal {submitted_appeal.reference} approved"
    assert "The ban will be lifted." in msg.get_content() and "reason" not in msg.get_content()


def test_smtp_server_down_is_a_retryable_failure(settings, complete_draft, enterprise_admin):
    draft_appeal = complete_draft
    import socket

    from appeals.models import Message, MessageState

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    deliver_queued()
    mail_row = Message.objects.get(appeal=draft_appeal, channel="email")
    assert mail_row.state == MessageState.QUEUED and "smtp_unavailable" in mail_row.reason and mail_row.next_attempt_at
