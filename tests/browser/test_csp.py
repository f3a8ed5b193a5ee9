"""The Content-Security-Policy holds on every main page: Chromium reports no violation (no inline
script, event handler or style attribute left), and the behaviour moved to static files works."""

import pytest
from playwright.sync_api import expect, sync_playwright

from appeals.core.services import appeals as appeal_services
from tests import factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD
from tests.browser.test_phone_layout import cases  # noqa: F401 (fixture)

PAGES = {
    "admin-a": ["/dashboard/", "/appeals/", "/appeals/new/", "/appeals/{ref}/", "/appeals/{draft}/",
                "/api/v1/appeals/", "/api/docs/"],
    "reviewer-1": ["/queues/first/", "/queues/second/", "/appeals/{ref}/", "/surge/"],
    "manager": ["/manager/", "/manager/reports/sla/", "/surge/", "/surge/settings/"],
}
# Chromium reports each refusal as a console error and as a securitypolicyviolation event.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture
def draft(cases):  # noqa: F811
    from appeals.models import Appeal

    admin = Appeal.objects.get(reference=cases[0]).filed_by
    incident = factories.IncidentFactory(account=factories.AccountFactory(enterprise=admin.enterprise), created_by=admin)
    return appeal_services.appeal_create(by=admin, incident=incident, statement="draft", contact_phone="13900000001").reference


@pytest.mark.browser
def test_main_pages_raise_no_csp_violation(live_server, cases, draft):  # noqa: F811
    violations, visited = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for username, paths in PAGES.items():
                context = browser.new_context(locale="en-US")
                context.add_init_script(WATCH)
                page = context.new_page()
                page.set_default_timeout(10_000)
                page.on("console", lambda msg, page=page: violations.append(f"{page.url}: {msg.text}")
                        if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
                page.goto(f"{live_server.url}/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", PASSWORD)
                page.click("form button.primary")
                expect(page.locator(".who")).to_have_text(username)
                for path in paths:
                    response = page.goto(live_server.url + path.format(ref=cases[-1], draft=draft))
                    assert response.status == 200, (path, response.status)
                    assert "script-src 'self'" in response.headers["content-security-policy"]
                    assert "camera=()" in response.headers["permissions-policy"]
                    page.wait_for_load_state("networkidle")
                    violations.extend(f"{path}: {v}" for v in page.evaluate("window.__csp"))
                    visited.append(path)
                if username == "admin-a":
                    # The language switcher (a button per language, no script at all) still works.
                    page.goto(f"{live_server.url}/dashboard/")
                    with page.expect_navigation():
                        page.click("form.lang button[value=zh-hans]")
                    assert page.evaluate("document.documentElement.lang") == "zh-hans"
                    violations.extend(f"lang switch: {v}" for v in page.evaluate("window.__csp"))
                context.close()
        finally:
            browser.close()
    assert len(visited) == sum(len(p) for p in PAGES.values())
    assert violations == [], "\n".join(violations)
