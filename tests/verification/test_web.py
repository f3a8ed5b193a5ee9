"""The case-page panel and the email-link landing page, rendered by the real views and templates."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from appeals.core.panels import render_panels
from appeals.models import Channel, VerificationChallenge

from .conftest import deliver_queued, last_code, last_token

pytestmark = pytest.mark.django_db


def _panel(user, appeal) -> str:
    request = RequestFactory().get(f"/appeals/{appeal.reference}/")
    request.user = user
    html = "".join(render_panels(request, appeal))
    return html


def test_panel_for_the_applicant(pending_appeal, enterprise_admin, enterprise):
    html = _panel(enterprise_admin, pending_appeal)
    phone = enterprise.legal_rep_mobile
    assert f"{phone[:3]}****{phone[-4:]}" in html and phone not in html
    assert 'name="code"' in html and 'value="verify_code"' in html
    assert 'value="resend_sms"' in html and "data-cooldown=" in html and "available in" in html
    assert html.count('class="message state-sent"') == 2
    assert 'value="escalate"' not in html


def test_panel_for_a_reviewer_offers_the_hotline_channel(pending_appeal, first_reviewer):
    html = _panel(first_reviewer, pending_appeal)
    assert 'value="escalate"' in html and 'name="code"' not in html


def test_panel_hidden_from_other_tenants(pending_appeal, other_admin):
    assert _panel(other_admin, pending_appeal) == ""


def test_code_form_and_resend_form(pending_appeal, enterprise_admin):
    client = Client()
    client.force_login(enterprise_admin)
    url = f"/appeals/{pending_appeal.reference}/verification/"
    response = client.post(url, {"action": "resend_sms", "next": "/somewhere/"})
    assert response.status_code == 302 and response.url == "/somewhere/"
    assert any("second" in str(m) for m in get_messages(response.wsgi_request))
    response = client.post(url, {"action": "verify_code", "code": "99999a", "next": "https://evil.example.com/"})
    assert response.url == "/"  # no open redirect
    assert "Enter the 6-digit code from the SMS." in [str(m) for m in get_messages(response.wsgi_request)]
    response = client.post(url, {"action": "verify_code", "code": last_code(), "next": "/case/"})
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == "Code accepted."
    assert VerificationChallenge.objects.get(appeal=pending_appeal, channel=Channel.SMS).state == "verified"


def test_landing_page_confirm_then_used(pending_appeal):
    client = Client()
    url = f"/verify/email/{last_token()}/"
    page = client.get(url)
    assert page.status_code == 200 and pending_appeal.reference in page.content.decode()
    assert VerificationChallenge.objects.get(appeal=pending_appeal, channel=Channel.EMAIL).state == "pending"  # GET changes nothing
    page = client.post(url, {"action": "confirm"})
    assert page.status_code == 200 and "your email address is confirmed" in page.content.decode()
    page = client.get(url)
    assert page.status_code == 410 and "already been used" in page.content.decode()


def test_landing_page_forged(pending_appeal):
    page = Client().get(f"/verify/email/{last_token()[:-3]}xyz/")
    assert page.status_code == 400 and "not valid" in page.content.decode() and "request a new link" in page.content.decode()


def test_landing_page_expired_offers_a_new_link(pending_appeal, enterprise):
    token = last_token()
    VerificationChallenge.objects.filter(appeal=pending_appeal, channel=Channel.EMAIL).update(
        expires_at=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(minutes=2))
    client = Client()
    page = client.get(f"/verify/email/{token}/")
    assert page.status_code == 410 and "expired" in page.content.decode() and 'value="renew"' in page.content.decode()
    mail.outbox.clear()
    page = client.post(f"/verify/email/{token}/", {"action": "renew"})
    assert "A new link has been sent" in page.content.decode()
    deliver_queued()
    assert mail.outbox[-1].to == [enterprise.admin_email] and last_token() != token
    # Asking again at once meets the cooldown, with a clear message.
    page = client.post(f"/verify/email/{last_token()}/", {"action": "renew"})
    assert "only for an expired link" in page.content.decode()


def test_landing_page_in_chinese(pending_appeal):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get(f"/verify/email/{last_token()}/")
    assert page.status_code == 200 and 'lang="zh-hans"' in page.content.decode()
