"""The enterprise admin finds a pushed incident ready to appeal on the dashboard; "Appeal this"
opens the new-appeal form pre-filled from it, and filing links the appeal to that incident."""

import pytest
from django.test import Client
from django.utils import timezone

from appeals.core.models import Appeal, BanIncident
from tests.intake.conftest import push_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(enforcement_api, account):
    response = enforcement_api.post("/api/v1/intake/incidents/", push_body(account), format="json")
    assert response.status_code == 201
    return BanIncident.objects.get(pk=response.json()["id"])


def _as(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_dashboard_lists_it_ready_to_appeal(pushed, enterprise_admin):
    page = _as(enterprise_admin).get("/dashboard/").content.decode()
    assert 'id="ready-to-appeal"' in page
    assert f'data-incident="{pushed.pk}"' in page
    assert "Pushed by the enforcement system" in page
    assert f'href="/appeals/new/?incident={pushed.pk}"' in page


def test_the_dashboard_in_chinese(pushed, enterprise_admin, settings):
    page = _as(enterprise_admin, "zh-hans").get("/dashboard/").content.decode()
    assert f'data-incident="{pushed.pk}"' in page
    assert 'lang="zh-hans"' in page.lower() or "zh-hans" in page.lower()


def test_appeal_this_opens_the_form_pre_filled_and_filing_links_the_incident(pushed, enterprise_admin):
    client = _as(enterprise_admin)
    form = client.get(f"/appeals/new/?incident={pushed.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'id="prefill-incident"' in html
    assert f'name="incident" value="{pushed.pk}"' in html
    assert "该账号因被多次投诉，已被永久封禁。" in html
    assert 'value="permanent_ban" selected' in html
    local = timezone.localtime(pushed.banned_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in html
    assert "disabled" in html

    # Tampered incident fields are ignored: the pushed incident's facts stand.
    response = client.post("/appeals/new/", {
        "incident": pushed.pk, "kind": "desktop_logout", "notice_text": "changed",
        "statement": "我们没有违规营销，请求解封。", "contact_phone": "13700001111", "save_draft": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal = Appeal.objects.get()
    assert appeal.incident_id == pushed.pk
    assert BanIncident.objects.count() == 1
    pushed.refresh_from_db()
    assert (pushed.kind, pushed.notice_text) == ("permanent_ban", "该账号因被多次投诉，已被永久封禁。")
    # Appealed: no longer ready to appeal.
    assert f'data-incident="{pushed.pk}"' not in client.get("/dashboard/").content.decode()
    assert client.get(f"/appeals/new/?incident={pushed.pk}").status_code == 404


def test_another_enterprise_neither_sees_nor_opens_it(pushed, other_admin):
    client = _as(other_admin)
    assert f'data-incident="{pushed.pk}"' not in client.get("/dashboard/").content.decode()
    assert client.get(f"/appeals/new/?incident={pushed.pk}").status_code == 404
    assert client.get("/appeals/new/?incident=not-a-number").status_code == 404
