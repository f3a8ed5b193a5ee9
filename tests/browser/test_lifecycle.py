"""Headless Chromium walks one appeal from filing to approval with three different users."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from appeals.evidence import services as evidence_services
from appeals.models import Appeal, AppealState
from tests import builders, factories

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PASSWORD = "demo-pass-2026"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def cast(transactional_db):
    enterprise = factories.EnterpriseFactory(name="上海晨光贸易有限公司", admin_email="ops@chenguang.example")
    factories.AccountFactory(enterprise=enterprise, display_name="销售一部")
    return {
        "admin": factories.UserFactory(username="admin-a", enterprise=enterprise),
        "r1": factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True),
        "r2": factories.UserFactory(username="reviewer-2", is_first_reviewer=True, is_second_reviewer=True),
        "enterprise": enterprise,
    }


def _off_the_loop(fn, *args, **kwargs):
    """Run fn in a plain thread with its own database connection (Playwright's sync API runs an
    event loop in this thread, and Django refuses database calls from an async context)."""
    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button.primary")
    expect(page.locator(".who")).to_have_text(username)


def _log_out(page):
    page.click("form.logout button")
    expect(page).to_have_url(re.compile(r"/login/"))


@pytest.mark.browser
def test_appeal_lifecycle_with_three_users(live_server, cast, tmp_path):
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(10_000)

            # admin-a files the appeal from the dashboard's emergency entry, then submits it.
            _log_in(page, base, "admin-a")
            expect(page).to_have_url(f"{base}/dashboard/")
            page.set_viewport_size(PHONE)
            emergency = page.locator("a.emergency")
            expect(emergency).to_be_visible()
            assert emergency.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(198, 40, 40)"
            box = emergency.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "emergency entry fits the phone screen"
            no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert no_sideways_scroll
            shot = tmp_path / "dashboard-phone.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000

            emergency.click()
            expect(page.locator("#prefill-company")).to_have_text("上海晨光贸易有限公司")
            expect(page.locator("#prefill-email")).to_have_text("ops@chenguang.example")
            page.select_option("select[name=kind]", "permanent_ban")
            page.select_option("select[name=reason]", "user_reports")
            page.fill("textarea[name=notice_text]", "该账号因多次被投诉已被永久封禁。")
            page.fill("textarea[name=statement]", "我们没有违规营销，请求解封。")
            page.screenshot(path=str(tmp_path / "new-appeal-phone.png"), full_page=True)
            page.click("button[name=save_draft]")
            expect(page.locator("h1 .state")).to_have_text("Draft")
            reference = page.locator("h1 .ref").inner_text()
            # Every item on the checklist, chosen in the evidence panel (one XHR each, then a reload).
            # (Database reads run off Playwright's event loop: Django refuses them inside it.)
            appeal = _off_the_loop(Appeal.objects.get, reference=reference)
            for kind in _off_the_loop(lambda: [e.kind for e in evidence_services.evidence_missing(appeal)]):
                name, content = builders.evidence_content(kind)
                path = tmp_path / name
                path.write_bytes(content)
                page.select_option("#evidence select[name=kind]", kind)
                with page.expect_navigation():
                    page.set_input_files("#evidence input[type=file]", str(path))
            assert _off_the_loop(evidence_services.evidence_missing, appeal) == []
            page.click("#action-submit button[value=submit]")
            expect(page.locator("h1 .state")).to_have_text("Submitted")

            # The two proofs: the code from the SMS typed into the panel, the link from the email opened.
            if not builders.worker_delivers():
                _off_the_loop(builders.deliver_queued, appeal)
            _off_the_loop(builders.wait_until_delivered, appeal)
            page.fill("#verification-code", _off_the_loop(builders.sms_code_for, appeal))
            page.click("form.code-entry button[type=submit]")
            expect(page.locator("h1 .state")).to_have_text("Submitted")
            token = _off_the_loop(builders.email_token_for, appeal)
            page.goto(f"{base}/verify/email/{token}/")
            page.click("text=Confirm my email")
            page.wait_for_selector("text=your email address is confirmed")
            page.goto(f"{base}/appeals/{reference}/")
            expect(page.locator("h1 .state")).to_have_text("First review")
            page.set_viewport_size({"width": 1280, "height": 900})
            _log_out(page)

            # reviewer-1 claims it from the first-review queue and recommends approval.
            _log_in(page, base, "reviewer-1")
            expect(page).to_have_url(f"{base}/queues/first/")
            row = page.locator("tr", has=page.locator(f"a:text-is('{reference}')"))
            row.locator("button[value=claim_first]").click()
            expect(page.locator("h1 .ref")).to_have_text(reference)
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(tmp_path / "decision-phone.png"), full_page=True)
            page.check("#action-decision input[value=recommend_approve]")
            page.fill("#action-decision textarea[name=comment]", "Evidence checks out.")
            page.click("#action-decision button[type=submit]")
            expect(page.locator("h1 .state")).to_have_text("Second review")
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=str(tmp_path / "case-desktop.png"), full_page=True)
            _log_out(page)

            # reviewer-2 claims the second review and approves.
            _log_in(page, base, "reviewer-2")
            page.goto(f"{base}/queues/second/")
            row = page.locator("tr", has=page.locator(f"a:text-is('{reference}')"))
            row.locator("button[value=claim_second]").click()
            page.check("#action-decision input[value=approve]")
            page.select_option("#action-decision select[name=outcome_code]", "restored")
            page.fill("#action-decision textarea[name=comment]", "Agreed, lift the ban.")
            page.click("#action-decision button[type=submit]")
            expect(page.locator("h1 .state")).to_have_text("Approved")
            _log_out(page)

            # admin-a sees the outcome and the whole timeline, and reads it in Chinese too.
            _log_in(page, base, "admin-a")
            row = page.locator("tr", has=page.locator(f"a:text-is('{reference}')"))
            expect(row.locator(".state")).to_have_text("Approved")
            row.locator(f"a:text-is('{reference}')").click()
            timeline = page.locator("#timeline li")
            expect(timeline).to_have_count(6)
            expect(timeline.nth(5)).to_contain_text("reviewer-2")
            expect(page.locator("#timeline")).to_contain_text("Evidence checks out.")
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(tmp_path / "case-phone.png"), full_page=True)
            page.click("form.lang button[value=zh-hans]")
            expect(page.locator("h1 .state")).to_have_text("已批准")
            expect(page.locator("#timeline")).to_contain_text("批准")
            page.goto(f"{base}/dashboard/")
            page.screenshot(path=str(tmp_path / "dashboard-phone-zh.png"), full_page=True)
            expect(page.locator("a.emergency")).to_contain_text("紧急申诉")
            context.close()
        finally:
            browser.close()

    appeal = Appeal.objects.get(reference=reference)
    assert appeal.state == AppealState.APPROVED
    assert (appeal.filed_by.username, appeal.first_reviewer.username, appeal.second_reviewer.username) == (
        "admin-a", "reviewer-1", "reviewer-2",
    )
