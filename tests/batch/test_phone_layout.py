"""The batch review pages fit a phone (390 px, no sideways scrolling), in Chinese and English,
with a long enterprise name, a recommended group and a skipped member's reason on them."""

import pytest
from playwright.sync_api import sync_playwright

from appeals.batch import services
from appeals.core.services import appeals as appeal_services
from tests import factories
from tests.batch.conftest import alike_wave
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD, PHONE


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_batch_pages_fit_a_phone(live_server, intake_guards_off, tmp_path):
    long_name = factories.EnterpriseFactory(name="深圳市长名称测试科技股份有限公司华南区域运营中心客户服务部")
    other = factories.EnterpriseFactory(name="Shenzhen Extremely Long Company Name Trading and Logistics Co Ltd")
    r1 = factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True)
    r2 = factories.UserFactory(username="reviewer-2", is_first_reviewer=True, is_second_reviewer=True)
    wave = alike_wave(5, enterprises=[long_name, other])
    alike_wave(3, enterprises=[other], kind="permanent_ban")  # stays a proposal
    group = services.batch_group_create(by=r1, references=[a.reference for a in wave])
    appeal_services.appeal_withdraw(appeal=wave[0], by=wave[0].filed_by)
    services.batch_recommend(by=r1, group=group, recommendation="reject", outcome_code="refused_violation_confirmed",
                             comment="同一批次：投诉集中，违规属实。" * 8)
    services.batch_run(group_id=group.pk)

    overflowing = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for locale in ("zh-CN", "en-US"):
                for username in ("reviewer-1", "reviewer-2"):
                    context = browser.new_context(viewport=PHONE, locale=locale)
                    page = context.new_page()
                    page.goto(f"{live_server.url}/login/")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("form button.primary")
                    page.wait_for_selector(".who")
                    for path in ("/queues/first/", "/batch/", f"/batch/{group.pk}/"):
                        page.goto(live_server.url + path)
                        assert page.locator("main").is_visible()
                        if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                            overflowing.append((locale, username, path))
                        page.screenshot(path=str(tmp_path / f"{locale}-{username}{path.replace('/', '_')}.png"), full_page=True)
                    if username == "reviewer-2":
                        assert page.locator("#split-form").count() == 1
                    context.close()
        finally:
            browser.close()
    assert overflowing == []
    assert r2.pk != r1.pk
