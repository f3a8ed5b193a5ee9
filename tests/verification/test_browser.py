"""The email link, opened in headless Chromium: look, confirm, come back to a used link."""

import pytest
from django.core import mail

from appeals.core.services import appeals as appeal_services
from appeals.models import AppealState, Channel, VerificationChallenge

from .conftest import LINK_RE, deliver_queued

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between page actions are ordinary blocking calls, not async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="en-US")
        yield page
        browser.close()


@pytest.fixture
def private_queue(settings):
    """Deliveries published by these committed transactions go to a queue nobody reads; dropped after."""
    from config.celery import app

    name = f"browser-{settings.DATABASES['default']['NAME']}"
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": name}
    yield name
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(name)


def test_admin_confirms_email_from_the_link(live_server, settings, private_queue, browser_page, complete_draft, enterprise_admin,
                                            enterprise):
    settings.SITE_URL = live_server.url
    appeal = appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    deliver_queued()
    link = LINK_RE.search(mail.outbox[-1].body).group(0)
    assert link.startswith(live_server.url)

    page = browser_page
    page.goto(link)
    assert appeal.reference in page.inner_text("main")
    assert VerificationChallenge.objects.get(appeal=appeal, channel=Channel.EMAIL).state == "pending"  # looking is not confirming
    page.click("text=Confirm my email")
    page.wait_for_selector("text=your email address is confirmed")
    assert "Enter the SMS code on the case page" in page.inner_text("main")
    assert VerificationChallenge.objects.get(appeal=appeal, channel=Channel.EMAIL).state == "verified"

    page.goto(link)
    assert "already been used" in page.inner_text("main")
    page.goto(link[:-4] + "AAA/")
    assert "not valid" in page.inner_text("main")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SUBMITTED  # the SMS code is still missing
