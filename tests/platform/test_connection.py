"""Connecting the enterprise's WeCom app: admins of that enterprise only, the secret encrypted,
never returned, every action audited."""

import json

import pytest
from django.db import connection as db
from rest_framework.test import APIClient

from appeals.audit.models import AuditEvent
from appeals.platform.models import WeComConnection
from tests.platform.conftest import CORP_ID, CORP_SECRET

pytestmark = pytest.mark.django_db
URL = "/api/v1/platform/wecom/connection/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def raw_secret_column(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT corp_secret FROM {WeComConnection._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_connect_stores_the_secret_encrypted_and_never_returns_it(enterprise_admin, other_admin, settings):
    settings.WECOM_API_BASE = "http://127.0.0.1:18001"
    response = api(enterprise_admin).post(URL, {"corp_id": CORP_ID, "corp_secret": CORP_SECRET}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["connected"] and body["corp_id"] == CORP_ID and body["secret_set"] is True
    assert CORP_SECRET not in response.content.decode()
    assert CORP_SECRET not in api(enterprise_admin).get(URL).content.decode()
    saved = WeComConnection.objects.get(enterprise=enterprise_admin.enterprise)
    assert saved.corp_secret == CORP_SECRET and saved.api_base == "http://127.0.0.1:18001"
    assert CORP_SECRET not in raw_secret_column(saved.pk) and raw_secret_column(saved.pk).startswith("gAAAA")
    # Another enterprise's admin sees their own (unconnected) enterprise, never this one.
    assert api(other_admin).get(URL).json()["connected"] is False
    event = AuditEvent.objects.filter(action="wecom.connect").latest("position")
    assert event.after["corp_id"] == CORP_ID and CORP_SECRET not in json.dumps(event.after)


def test_connect_twice_bad_input_and_desk_staff_are_refused(enterprise_admin, first_reviewer):
    client = api(enterprise_admin)
    bad = client.post(URL, {"corp_id": "ww 1;drop", "corp_secret": ""}, format="json")
    assert bad.status_code == 400 and "corp_secret" in bad.json()["fields"]
    bad = client.post(URL, {"corp_id": "ww 1;drop", "corp_secret": "x y"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"corp_id", "corp_secret"}
    assert client.post(URL, {"corp_id": CORP_ID, "corp_secret": CORP_SECRET}, format="json").status_code == 201
    again = client.post(URL, {"corp_id": CORP_ID, "corp_secret": CORP_SECRET}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_connected"
    assert api(first_reviewer).get(URL).status_code == 403
    assert api(first_reviewer).post(URL, {"corp_id": CORP_ID, "corp_secret": "x"}, format="json").status_code == 403


def test_rotate_replaces_the_secret_and_drops_the_cached_token_then_disconnect(enterprise_admin):
    client = api(enterprise_admin)
    client.post(URL, {"corp_id": CORP_ID, "corp_secret": CORP_SECRET}, format="json")
    WeComConnection.objects.update(access_token="cached-token")
    response = client.post(URL + "rotate/", {"corp_secret": "new-secret-0002"}, format="json")
    assert response.status_code == 200 and response.json()["rotated_at"]
    assert "new-secret-0002" not in response.content.decode()
    saved = WeComConnection.objects.get()
    assert saved.corp_secret == "new-secret-0002" and saved.access_token == ""
    assert client.delete(URL).status_code == 204 and not WeComConnection.objects.exists()
    assert client.delete(URL).status_code == 404
    actions = list(AuditEvent.objects.filter(action__startswith="wecom.").order_by("position").values_list("action", flat=True))
    assert actions == ["wecom.connect", "wecom.rotate_secret", "wecom.disconnect"]
    for event in AuditEvent.objects.filter(action__startswith="wecom."):
        dumped = json.dumps([event.before, event.after])
        assert CORP_SECRET not in dumped and "new-secret-0002" not in dumped


def test_the_settings_page_connects_and_shows_no_secret(client, enterprise_admin, settings):
    client.force_login(enterprise_admin)
    page = client.get("/platform/wecom/")
    assert page.status_code == 200 and b'name="corp_secret"' in page.content
    response = client.post("/platform/wecom/", {"action": "connect", "corp_id": CORP_ID, "corp_secret": CORP_SECRET}, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert CORP_ID in content and CORP_SECRET not in content
    with_zh = client.get("/platform/wecom/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert with_zh.status_code == 200 and CORP_SECRET not in with_zh.content.decode()
