"""The local inbox: in local mode every SMS and email lands on /dev/inbox/ with its code and a
link that works on whatever host and port the desk runs; elsewhere the page does not exist."""

import re

import pytest
from django.test import Client

from appeals.core.services import appeals as svc
from appeals.verification.models import VerificationChallenge
from tests import builders
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_inbox(settings, tmp_path):
    settings.DEV_INBOX = True
    settings.DEV_INBOX_DIR = str(tmp_path)
    settings.SMS_BACKEND = "appeals.notifications.dev_inbox.SmsBackend"
    settings.EMAIL_BACKEND = "appeals.notifications.dev_inbox.EmailBackend"
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    return tmp_path


def _submit_over_the_api(appeal, admin, host: str):
    builders.attach_required_evidence(appeal, admin)
    response = client_for(admin).post(f"/api/v1/appeals/{appeal.reference}/submit/", HTTP_HOST=host)
    assert response.status_code == 200, response.content
    builders.deliver_queued(appeal)


def test_inbox_shows_the_code_and_a_link_on_the_port_the_user_came_to(local_inbox, draft_appeal, enterprise_admin):
    _submit_over_the_api(draft_appeal, enterprise_admin, "127.0.0.1:8101")
    page = Client(HTTP_HOST="127.0.0.1:8101").get("/dev/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    code = re.search(r'class="inbox-code">[^<]*<strong><code>(\d{6})</code>', html).group(1)
    link = re.search(r'href="(http://127\.0\.0\.1:8101/[^"]+)"', html).group(1)
    # Newest first: the email was delivered after the SMS.
    assert html.index("inbox-email") < html.index("inbox-sms")
    # The link works where the user is, and the code verifies.
    browser = Client(HTTP_HOST="127.0.0.1:8101")
    browser.force_login(enterprise_admin)
    path = link.removeprefix("http://127.0.0.1:8101")
    assert browser.get(path).status_code == 200
    assert browser.post(path, {"action": "confirm"}).status_code == 200
    response = client_for(enterprise_admin).post(
        f"/api/v1/appeals/{draft_appeal.reference}/verification/code/", {"code": code}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    draft_appeal.refresh_from_db()
    assert set(VerificationChallenge.objects.filter(appeal=draft_appeal).values_list("state", flat=True)) == {"verified"}
    assert draft_appeal.state == "first_review"


def test_site_url_wins_over_the_request(local_inbox, settings, draft_appeal, enterprise_admin):
    settings.SITE_URL = "https://appeals.example.com"
    _submit_over_the_api(draft_appeal, enterprise_admin, "localhost:8101")
    html = Client().get("/dev/inbox/").content.decode()
    assert "https://appeals.example.com/" in html and "localhost:8101" not in html


def test_case_page_links_to_the_inbox_in_local_mode_only(local_inbox, settings, enterprise_admin):
    browser = Client()
    browser.force_login(enterprise_admin)
    draft = svc.appeal_create(by=enterprise_admin, incident=builders_incident(enterprise_admin), statement="x" * 30,
                              contact_phone="13912345678")
    _submit_over_the_api(draft, enterprise_admin, "testserver")
    assert 'href="/dev/inbox/"' in browser.get(f"/appeals/{draft.reference}/").content.decode()
    settings.DEV_INBOX = False
    assert 'href="/dev/inbox/"' not in browser.get(f"/appeals/{draft.reference}/").content.decode()
    assert Client().get("/dev/inbox/").status_code == 404


def builders_incident(admin):
    from tests import factories

    return factories.IncidentFactory(account=factories.AccountFactory(enterprise=admin.enterprise), created_by=admin)
