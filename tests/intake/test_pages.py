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


# --- the managers' page ----------------------------------------------------------------------


def test_a_manager_creates_scopes_issues_a_token_and_revokes_on_the_page(manager, enterprise, other_enterprise, account):
    from appeals.audit.models import AuditEvent
    from appeals.intake.models import ServiceAccount
    from tests.intake.conftest import client_with

    client = _as(manager)
    assert client.get("/manager/service-accounts/").status_code == 200
    created = client.post("/manager/service-accounts/", {"op": "create", "name": "WeCom enforcement",
                                                          "enterprises": [enterprise.pk]})
    assert created.status_code == 302
    sa = ServiceAccount.objects.get()
    assert list(sa.enterprises.all()) == [enterprise]

    page = client.get("/manager/service-accounts/").content.decode()
    assert f'data-service-account="{sa.pk}"' in page and "WeCom enforcement" in page

    scoped = client.post("/manager/service-accounts/", {"op": "scope", "service_account": sa.pk,
                                                         f"sa{sa.pk}-enterprises": [enterprise.pk, other_enterprise.pk]})
    assert scoped.status_code == 302
    assert set(sa.enterprises.all()) == {enterprise, other_enterprise}

    issued = client.post("/manager/service-accounts/", {"op": "token", "service_account": sa.pk})
    assert issued.status_code == 200 and issued["Cache-Control"] == "no-store"
    html = issued.content.decode()
    key = html.split('<code class="token-key">')[1].split("</code>")[0]
    assert client_with(key).post("/api/v1/intake/incidents/", push_body(account), format="json").status_code == 201
    assert key not in client.get("/manager/service-accounts/").content.decode()  # shown once

    assert client.post("/manager/service-accounts/", {"op": "revoke", "service_account": sa.pk}).status_code == 302
    assert client_with(key).post("/api/v1/intake/incidents/", push_body(account), format="json").status_code == 401
    assert AuditEvent.objects.filter(target_type="appeals.serviceaccount", target_id=str(sa.pk)).count() == 4


def test_the_managers_page_is_for_managers_only(enterprise_admin, first_reviewer):
    for user in (enterprise_admin, first_reviewer):
        assert _as(user).get("/manager/service-accounts/").status_code == 403


def test_a_blank_name_is_a_field_error_on_the_page(manager):
    response = _as(manager).post("/manager/service-accounts/", {"op": "create", "name": ""})
    assert response.status_code == 400
    assert 'id="field-name"' in response.content.decode() and "has-error" in response.content.decode()
