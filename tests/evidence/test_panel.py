"""The evidence panel on the case page, rendered and driven in headless Chromium."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client, RequestFactory

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as svc
from appeals.evidence.web import render_evidence_panel
from appeals.models import EvidenceItem
from tests.evidence import files
from tests.evidence.conftest import attach_required_evidence


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.django_db
def test_panel_shows_checklist_hashes_masked_names_and_flags_with_lines(draft_appeal, enterprise_admin, first_reviewer):
    svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="admin_id_front",
                        file=files.upload("id_110101199003071234.png", files.image_bytes("PNG")))
    t0 = datetime(2026, 11, 20, 9, 0)
    rows = [f"{t0 + timedelta(seconds=i):%Y-%m-%d %H:%M:%S},wx-1,operations,add_friend,u,hi,1.1.1.1,d" for i in range(55)]
    log = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                              file=files.upload("log.csv", files.log_csv(rows).encode()))
    svc.evidence_analyse_log(item_id=log.pk)

    html = render_evidence_panel(_request(enterprise_admin), draft_appeal)
    assert "110101199003071234" not in html and "110***********1234" in html
    for item in EvidenceItem.objects.filter(appeal=draft_appeal):
        assert item.sha256 in html
    assert 'class="slot missing" id="slot-ban_notice" data-kind="ban_notice"' in html
    assert 'class="slot ok" id="slot-admin_id_front" data-kind="admin_id_front"' in html
    assert "Mass adding of friends" in html
    assert re.search(r'class="lines">2, 3, 4, 5, .*and 30 more', html)  # 55 lines: 25 shown
    assert "55 rows, 0 malformed" in html
    assert "evidence.js" in html and 'type="file"' in html  # the owner may still upload

    appeal = draft_appeal
    attach_required_evidence(appeal, enterprise_admin)
    appeal = appeal_services.appeal_submit(appeal=appeal, by=enterprise_admin)
    reviewer_html = render_evidence_panel(_request(first_reviewer), appeal)
    assert 'type="file"' not in reviewer_html and "Mass adding of friends" in reviewer_html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_drag_and_drop_upload_with_progress_in_chromium(live_server, settings, draft_appeal, enterprise_admin, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.ROOT_URLCONF = "tests.evidence.urls"
    c = Client()
    c.force_login(enterprise_admin)
    session = c.cookies["sessionid"].value
    png = tmp_path / "notice.png"
    png.write_bytes(files.image_bytes("PNG", size=(120, 90)))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/test-case/{draft_appeal.reference}/")
            page.select_option("select[name=kind]", "ban_notice")
            # 1) choose a file: one XHR with a progress bar, then the page reloads with the new row
            progress_values = []
            page.expose_function("recordProgress", lambda v: progress_values.append(v))
            page.evaluate("""() => { const orig = XMLHttpRequest.prototype.send;
                XMLHttpRequest.prototype.send = function (body) {
                  this.upload.addEventListener('progress', e => window.recordProgress(e.loaded / e.total));
                  return orig.call(this, body); }; }""")
            with page.expect_navigation():
                page.set_input_files("input[type=file]", str(png))
            assert page.locator("table.evidence-files tbody tr").count() == 1
            assert progress_values and progress_values[-1] == 1
            assert page.locator('li.ok[data-kind="ban_notice"]').count() == 1

            # 2) drop a disguised file on the zone: refused with the server's reason, nothing reloads
            page.select_option("select[name=kind]", "admin_id_front")
            page.evaluate("""() => { const dt = new DataTransfer();
                dt.items.add(new File(['<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'], 'id.png', {type: 'image/png'}));
                document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); }""")
            page.wait_for_selector(".upload-status li.error")
            assert "SVG" in page.inner_text(".upload-status li.error")
        finally:
            browser.close()
    assert EvidenceItem.objects.filter(appeal=draft_appeal).count() == 1
