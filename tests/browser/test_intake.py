"""Headless Chromium on a phone: the enforcement system pushed a ban through the API; the
enterprise admin finds it ready to appeal on the dashboard, taps "Appeal this", finds the form
pre-filled and saves the draft, linked to the pushed incident."""

import pytest
from playwright.sync_api import expect, sync_playwright
from rest_framework.test import APIClient

from appeals.intake import services
from appeals.models import Appeal, BanIncident
from tests import factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PHONE, _log_in, _off_the_loop


@pytest.fixture
def pushed(transactional_db):
    enterprise = factories.EnterpriseFactory(name="杭州青禾科技有限公司")
    account = factories.AccountFactory(enterprise=enterprise, display_name="客服一组")
    factories.UserFactory(username="admin-a", enterprise=enterprise)
    manager = factories.UserFactory(username="manager-1", is_manager=True)
    sa = services.service_account_create(by=manager, name="WeCom enforcement", enterprises=[enterprise])
    _token, key = services.service_account_token_issue(by=manager, service_account=sa)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.post("/api/v1/intake/incidents/", {
        "platform": account.platform, "account_id": account.account_id, "banned_at": "2026-12-01T09:30:00+08:00",
        "kind": "short_ban", "reason": "spam", "notice_text": "该账号因营销骚扰被投诉，已被临时限制。",
    }, format="json", HTTP_IDEMPOTENCY_KEY="browser-push-1")
    assert response.status_code == 201
    return BanIncident.objects.get(pk=response.json()["id"])


@pytest.mark.browser
def test_appeal_a_pushed_incident_on_a_phone(live_server, pushed, tmp_path):
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
            page.set_default_timeout(10_000)
            _log_in(page, base, "admin-a")
            card = page.locator(f"#ready-to-appeal [data-incident='{pushed.pk}']")
            expect(card).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scroll at 390 px"
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            card.locator("a.button").click()

            expect(page.locator("#prefill-incident")).to_be_visible()
            expect(page.locator("select[name=kind]")).to_have_value("short_ban")
            expect(page.locator("select[name=kind]")).to_be_disabled()
            expect(page.locator("textarea[name=notice_text]")).to_have_value("该账号因营销骚扰被投诉，已被临时限制。")
            page.fill("textarea[name=statement]", "我们已停止群发营销，请求解除限制。")
            page.click("button[name=save_draft]")
            expect(page.locator("h1")).to_contain_text("AP-")
        finally:
            browser.close()

    appeal = _off_the_loop(lambda: Appeal.objects.get())
    assert appeal.incident_id == pushed.pk
    assert _off_the_loop(BanIncident.objects.count) == 1
