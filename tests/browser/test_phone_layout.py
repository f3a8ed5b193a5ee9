"""Every page fits a phone screen: no sideways scrolling at 390 px, with real data on it."""

import pytest
from playwright.sync_api import sync_playwright

from appeals.core.services import appeals as appeal_services
from tests import builders, factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD, PHONE


@pytest.fixture
def cases(transactional_db):
    enterprise = factories.EnterpriseFactory(name="深圳市长名称测试科技股份有限公司华南区域运营中心")
    account = factories.AccountFactory(enterprise=enterprise, display_name="客服账号-非常长的显示名称用于测试换行")
    admin = factories.UserFactory(username="admin-a", enterprise=enterprise)
    r1 = factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True)
    factories.UserFactory(username="manager", is_manager=True)
    refs = []
    for i in range(3):
        incident = factories.IncidentFactory(account=account, created_by=admin, notice_text="通知" * 80 + "https://example.com/" + "x" * 120)
        appeal = appeal_services.appeal_create(by=admin, incident=incident, statement="说明" * 200 + "y" * 150, contact_phone=f"1370000000{i}")
        appeal = builders.submitted_appeal(appeal, admin)
        refs.append(appeal.reference)
    appeal_services.appeal_claim(appeal=appeal, by=r1)
    return refs


PAGES = {
    "admin-a": ["/dashboard/", "/appeals/", "/appeals/new/", "/appeals/{ref}/", "/platform/wecom/"],
    "reviewer-1": ["/queues/first/", "/queues/second/", "/appeals/{ref}/", "/appeals/"],
    "manager": ["/manager/"],
}


@pytest.mark.browser
def test_pages_fit_a_phone(live_server, cases, tmp_path):
    overflowing = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for username, paths in PAGES.items():
                context = browser.new_context(viewport=PHONE, locale="zh-CN")
                page = context.new_page()
                page.goto(f"{live_server.url}/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", PASSWORD)
                page.click("form button.primary")
                page.wait_for_selector(".who")
                for path in paths:
                    page.goto(live_server.url + path.format(ref=cases[-1]))
                    assert page.locator("main").is_visible()
                    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                        overflowing.append((username, path))
                    name = f"{username}{path.replace('/', '_').replace('{ref}', 'case')}.png"
                    page.screenshot(path=str(tmp_path / name), full_page=True)
                context.close()
        finally:
            browser.close()
    assert overflowing == []
