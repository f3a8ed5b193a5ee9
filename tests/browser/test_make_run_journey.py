"""A new user's whole journey on `make run HOST=127.0.0.1:<port>` (any port, not 8000), in a
browser only: sign in with the printed login, file, upload the checklist, submit, find the SMS
code and the email link in the local inbox the case page points to, then two reviewers decide.
Nothing is read from the database or the repository's files along the way."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests import builders
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD, _log_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def make_run(tmp_path):
    """`make run` as a user starts it: no environment beyond a scratch SQLite file and media folder."""
    port = _free_port()
    # A user's shell, not this test process's environment (other tests may have set storage,
    # broker or backend variables in it).
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media"),
                "DEV_INBOX_DIR": str(tmp_path / "inbox"), "PYTHON": sys.executable})
    proc = subprocess.Popen(["make", "--no-print-directory", "run", f"HOST=127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    # Read the output on a thread: a readline() here would block while make is silent.
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    try:
        while True:
            if proc.poll() is not None:
                reader.join(timeout=5)
                raise AssertionError("make run stopped:\n" + "".join(lines))
            if time.monotonic() > deadline:
                raise AssertionError("make run did not serve within 240 s:\n" + "".join(lines))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(0.5)  # the banner is printed just before the server listens
        yield f"http://127.0.0.1:{port}", "".join(lines)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _review(page, base, username, queue, reference, decision, comment, expected_state, outcome=None):
    """Sign in as a reviewer, claim the case from the queue, decide it, sign out."""
    _log_in(page, base, username)
    page.goto(f"{base}/queues/{queue}/")
    page.locator("tr", has=page.locator(f"a:text-is('{reference}')")).locator(f"button[value=claim_{queue}]").click()
    page.check(f"#action-decision input[value={decision}]")
    if outcome:
        page.select_option("#action-decision select[name=outcome_code]", outcome)
    page.fill("#action-decision textarea[name=comment]", comment)
    page.click("#action-decision button[type=submit]")
    expect(page.locator("h1 .state")).to_have_text(expected_state)


def test_a_new_user_reaches_a_decision_on_make_run_at_another_port(make_run, tmp_path):
    base, output = make_run
    # The start-up output is short and says where things are.
    for needed in ("admin-a", "reviewer-1", "reviewer-2", PASSWORD, f"{base}/dev/inbox/"):
        assert needed in output, output
    assert len(output.splitlines()) < 40, output
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
            page.set_default_timeout(20_000)
            _log_in(page, base, "admin-a")
            page.goto(f"{base}/appeals/new/")
            page.select_option("select[name=kind]", "permanent_ban")
            page.select_option("select[name=reason]", "user_reports")
            page.fill("textarea[name=notice_text]", "该账号因多次被投诉已被永久封禁。")
            page.fill("textarea[name=statement]", "我们没有违规营销，请求解封。")
            page.click("button[name=save_draft]")
            expect(page.locator("h1 .state")).to_have_text("草稿")
            reference = page.locator("h1 .ref").inner_text()
            # Upload whatever the checklist says is missing, one slot at a time.
            missing = page.locator(".evidence-checklist li.missing").evaluate_all("els => els.map(e => e.dataset.kind)")
            assert missing, "a new draft's checklist shows what is missing"
            for kind in missing:
                name, content = builders.evidence_content(kind)
                (tmp_path / name).write_bytes(content)
                page.wait_for_load_state("load")  # evidence.js (deferred) listens before the file is chosen
                page.select_option("#evidence select[name=kind]", kind)
                page.set_input_files("#evidence input[type=file]", str(tmp_path / name))
                # The upload reports on the page, then the page reloads with the slot filled. A
                # slow machine gets time (the operation log is analysed in-process here), and a
                # refusal fails with the page's own words.
                slot = page.locator(f".evidence-checklist li[data-kind='{kind}']:not(.missing)")
                refused = page.locator("#evidence .upload-status li.error")
                expect(slot.or_(refused)).to_have_count(1, timeout=90_000)
                assert refused.count() == 0, f"upload of {kind} refused: {refused.inner_text()}"
            page.wait_for_load_state("load")
            expect(page.locator(".evidence-checklist li.missing")).to_have_count(0)
            page.click("#action-submit button[value=submit]")
            expect(page.locator("h1 .state")).to_have_text("已提交")

            # The case page points to the local inbox; the code and the link are there.
            inbox_link = page.locator(".dev-inbox-hint a")
            expect(inbox_link).to_be_visible()
            inbox = page.context.new_page()
            inbox.goto(base + inbox_link.get_attribute("href"))
            # Newest first: the demo data's own messages come after this appeal's two.
            code = inbox.locator(".inbox-sms .inbox-code code").first.inner_text()
            link = inbox.locator(".inbox-email .inbox-body a").first.get_attribute("href")
            assert re.fullmatch(r"\d{6}", code) and link.startswith(f"{base}/verify/email/"), (code, link)
            page.fill("#verification-code", code)
            page.click("form.code-entry button[type=submit]")
            inbox.goto(link)
            inbox.locator("input[name=action][value=confirm] + button").click()
            expect(inbox.locator("main")).to_contain_text("已确认")
            page.goto(f"{base}/appeals/{reference}/")
            expect(page.locator("h1 .state")).to_have_text("初审")
            page.click("form.logout button")

            _review(page, base, "reviewer-1", "first", reference, "recommend_approve", "材料齐全，建议解封。", "复审")
            page.click("form.logout button")
            _review(page, base, "reviewer-2", "second", reference, "approve", "同意解封。", "已批准", outcome="restored")
            page.screenshot(path=str(tmp_path / "make-run-decided-phone-zh.png"), full_page=True)
        finally:
            browser.close()
