"""The webhook pages, in English and zh-Hans: register (the secret shown on that page only),
change, rotate, remove, the delivery log with the managers' Redeliver button; at 390 px wide."""

import pytest
from django.test import Client

from appeals.audit.models import AuditEvent
from appeals.notifications.models import Message, MessageChannel
from appeals.webhooks import services
from appeals.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def _client(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def logged_delivery(db, endpoint_for, enterprise_admin, submitted_appeal):
    endpoint, _receiver = endpoint_for(enterprise_admin)
    event = WebhookEvent.objects.create(
        webhook_id="msg_page", type="appeal.submitted", enterprise=endpoint.enterprise, appeal=submitted_appeal,
        payload={"data": {"appeal": {"reference": submitted_appeal.reference}}}, occurred_at=submitted_appeal.submitted_at)
    return WebhookDelivery.objects.create(endpoint=endpoint, event=event, attempt=1, status_code=503, latency_ms=41,
                                          outcome="transient", error="HTTP 503")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_admin_registers_an_endpoint_and_sees_the_secret_on_that_page_only(enterprise_admin, receivers, language):
    client = _client(enterprise_admin, language)
    page = client.get("/webhooks/")
    assert page.status_code == 200 and f'<html lang="{language}">' in page.content.decode()
    receiver = receivers()
    response = client.post("/webhooks/", {"url": receiver.url, "description": "ERP", "events": ["appeal.decided", "appeal.submitted"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    secret = str(endpoint.secret)
    assert secret in response.content.decode()
    assert endpoint.events == ["appeal.submitted", "appeal.decided"] and endpoint.enterprise_id == enterprise_admin.enterprise_id
    for path in ("/webhooks/", f"/webhooks/{endpoint.pk}/"):
        body = client.get(path).content.decode()
        assert receiver.url in body and secret not in body

    rotated = client.post(f"/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert rotated.status_code == 200 and str(endpoint.secret) in rotated.content.decode() and secret not in rotated.content.decode()

    saved = client.post(f"/webhooks/{endpoint.pk}/", {"url": receiver.url, "description": "ERP 2", "events": ["appeal.withdrawn"]})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.events, endpoint.active) == ("ERP 2", ["appeal.withdrawn"], False)

    assert client.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert list(AuditEvent.objects.filter(action__startswith="webhook.").order_by("position").values_list("action", flat=True)) == [
        "webhook.endpoint_create", "webhook.secret_rotate", "webhook.endpoint_update", "webhook.endpoint_delete"]


@pytest.mark.django_db
def test_a_refused_url_is_a_form_error(enterprise_admin, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": False}
    response = _client(enterprise_admin).post("/webhooks/", {"url": "http://169.254.169.254/latest/", "events": ["appeal.decided"]})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_managers_see_the_log_and_redeliver(manager, enterprise_admin, logged_delivery, language):
    client = _client(manager, language)
    body = client.get(f"/webhooks/{logged_delivery.endpoint_id}/").content.decode()
    assert "msg_page" in body and "503" in body and f"/webhooks/deliveries/{logged_delivery.pk}/redeliver/" in body
    assert f'action="/webhooks/{logged_delivery.endpoint_id}/rotate/"' not in body  # an enterprise's endpoint: read only
    assert client.post(f"/webhooks/deliveries/{logged_delivery.pk}/redeliver/").status_code == 302
    queued = Message.objects.get(channel=MessageChannel.WEBHOOK)
    assert queued.params["webhook_id"] == "msg_page" and queued.params["manual"] is True
    # The admin sees their log, without the button.
    admin_body = _client(enterprise_admin, language).get(f"/webhooks/{logged_delivery.endpoint_id}/").content.decode()
    assert "msg_page" in admin_body and "/redeliver/" not in admin_body
    assert _client(enterprise_admin).post(f"/webhooks/deliveries/{logged_delivery.pk}/redeliver/").status_code == 302
    assert Message.objects.filter(channel=MessageChannel.WEBHOOK).count() == 1  # refused: managers only


@pytest.mark.django_db
def test_other_tenants_and_reviewers_get_nothing(other_admin, first_reviewer, logged_delivery):
    pk = logged_delivery.endpoint_id
    assert _client(other_admin).get(f"/webhooks/{pk}/").status_code == 404
    assert _client(other_admin).post(f"/webhooks/{pk}/delete/").status_code == 404
    assert _client(other_admin).post(f"/webhooks/deliveries/{logged_delivery.pk}/redeliver/").status_code == 404
    assert _client(first_reviewer).get("/webhooks/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=pk).exists()


@pytest.mark.browser
def test_the_pages_fit_a_phone(live_server, transactional_db, loopback_webhooks):
    from playwright.sync_api import sync_playwright

    from tests import factories
    from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD, PHONE

    enterprise = factories.EnterpriseFactory(name="深圳市长名称测试科技股份有限公司华南区域运营中心")
    admin = factories.UserFactory(username="admin-a", enterprise=enterprise)
    endpoint, _secret = services.webhook_endpoint_create(
        by=admin, url="http://127.0.0.1:18299/" + "webhooks/receiver/" * 12, events=["appeal.decided"],
        description="企业资源计划系统的申诉状态同步接口" * 4)
    overflowing = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", "admin-a")
            page.fill("input[name=password]", PASSWORD)
            page.click("form button.primary")
            page.wait_for_selector(".who")
            for path in ("/webhooks/", f"/webhooks/{endpoint.pk}/"):
                page.goto(live_server.url + path)
                if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                    overflowing.append(path)
            page.click(f"form[action='/webhooks/{endpoint.pk}/rotate/'] button")
            page.wait_for_selector(".webhook-secret")
            if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                overflowing.append("secret page")
            context.close()
        finally:
            browser.close()
    assert overflowing == []
