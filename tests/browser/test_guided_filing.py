"""Headless Chromium files an appeal on a phone by following the case page's stepper: the
refusal list's links, the evidence slots, the verifications on top after submit; then the
manager's dashboard on the same phone."""

import pytest
from playwright.sync_api import expect, sync_playwright

from appeals.models import Appeal
from tests import builders, factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PHONE, _log_in, _log_out, _off_the_loop


@pytest.fixture
def cast(transactional_db):
    enterprise = factories.EnterpriseFactory(name="杭州青禾科技有限公司", admin_email="it@qinghe.example")
    factories.AccountFactory(enterprise=enterprise, display_name="客服一组")
    return {
        "admin": factories.UserFactory(username="admin-a", enterprise=enterprise),
        "manager": factories.UserFactory(username="manager-1", is_manager=True),
    }


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scroll at 390 px"


def _current_step(page) -> str:
    return page.locator("#stepper").get_attribute("data-current")


@pytest.mark.browser
def test_file_an_appeal_through_the_stepper_on_a_phone(live_server, cast, tmp_path):
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-US", viewport=PHONE)
            page = context.new_page()
            page.set_default_timeout(10_000)
            _log_in(page, base, "admin-a")
            page.click("a.emergency")
            expect(page.locator("#evidence-needed")).to_be_visible()  # the form says what evidence comes next
            page.select_option("select[name=kind]", "permanent_ban")
            page.fill("textarea[name=statement]", "我们没有违规营销，请求解封。")
            page.click("button[name=submit_now]")

            # Refused: one line per missing item, each a link to its slot; the stepper is on "evidence".
            refusals = page.locator("#refusals li a")
            expect(refusals.first).to_be_visible()
            count = refusals.count()
            assert count >= 5
            assert _current_step(page) == "evidence"
            expect(page.locator("#stepper [aria-current=step]")).to_contain_text("Evidence")
            _fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "refused-phone.png"), full_page=True)
            first = refusals.first.get_attribute("href")
            refusals.first.click()
            assert page.url.endswith(first)
            expect(page.locator(f"{first}.missing")).to_be_visible()

            reference = page.locator("h1 .ref").inner_text()
            appeal = _off_the_loop(Appeal.objects.get, reference=reference)
            # Follow the stepper's to-do list: each link names a slot; upload that kind.
            while _current_step(page) == "evidence":
                link = page.locator("#next-action .todo a").first
                kind = link.get_attribute("href").removeprefix("#slot-")
                name, content = builders.evidence_content(kind)
                path = tmp_path / name
                path.write_bytes(content)
                page.select_option("#evidence select[name=kind]", kind)
                with page.expect_navigation():
                    page.set_input_files("#evidence input[type=file]", str(path))
                expect(page.locator(f"#slot-{kind}")).to_have_class("slot ok")
            assert _current_step(page) == "submit"
            expect(page.locator("a.log-template")).to_have_attribute("href", "/evidence/operation-log-template.csv")
            page.click("#action-submit button[value=submit]")

            # After submit: the stepper is on "verify", the two verifications come first, above Withdraw.
            expect(page.locator("h1 .state")).to_have_text("Submitted")
            assert _current_step(page) == "verify"
            todo = page.locator("#next-action .todo li")
            expect(todo).to_have_count(2)
            verification = page.locator("#verification").bounding_box()
            withdraw = page.locator("#action-withdraw").bounding_box()
            assert verification["y"] < withdraw["y"]
            _fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "verify-phone.png"), full_page=True)

            if not builders.worker_delivers():
                _off_the_loop(builders.deliver_queued, appeal)
            _off_the_loop(builders.wait_until_delivered, appeal)
            page.fill("#verification-code", _off_the_loop(builders.sms_code_for, appeal))
            page.click("form.code-entry button[type=submit]")
            expect(page.locator("#next-action .todo li")).to_have_count(1)  # the email link is left
            token = _off_the_loop(builders.email_token_for, appeal)
            page.goto(f"{base}/verify/email/{token}/")
            page.click("text=Confirm my email")
            page.wait_for_selector("text=your email address is confirmed")
            page.goto(f"{base}/appeals/{reference}/")
            expect(page.locator("h1 .state")).to_have_text("First review")
            assert _current_step(page) == "review"
            _log_out(page)

            # The manager's dashboard on the same phone: one filter bar, five charts, nothing wider than the screen.
            _log_in(page, base, "manager-1")
            page.goto(f"{base}/manager/reports/sla/?live=1")
            expect(page.locator("figure.chart")).to_have_count(5)
            svgs = page.locator("figure.chart svg.chart-svg")
            assert svgs.count() >= 3  # the weekly series draw even with few cases; empty figures say so
            for i in range(svgs.count()):
                box = svgs.nth(i).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            _fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
            # In Chinese too (longer labels must still wrap, not scroll sideways); then the applicant's case page.
            with page.expect_navigation():
                page.click("form.lang button[value=zh-hans]")
            expect(page.locator("figure.chart")).to_have_count(5)
            _fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "dashboard-phone-zh.png"), full_page=True)
            _log_out(page)
            _log_in(page, base, "admin-a")
            page.goto(f"{base}/appeals/{reference}/")
            expect(page.locator("h1 .state")).to_have_text("初审")
            assert _current_step(page) == "review"
            _fits_the_phone(page)
            page.screenshot(path=str(tmp_path / "case-phone-zh.png"), full_page=True)
            context.close()
        finally:
            browser.close()
