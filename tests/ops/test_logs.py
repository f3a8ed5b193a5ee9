"""Structured logs: one JSON object per line with the request id, the user and the appeal; the
same request id in the response header and in the worker's lines for the tasks the request
queued; no code or token in any line."""

import logging
import re
from urllib.parse import urlparse

import pytest
from django.test import Client

from appeals.models import EvidenceItem, Message, MessageState
from tests import builders
from tests.api.conftest import client_for
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db


def _access_line(lines, rid):
    return next(r for r in lines if r["logger"] == "appeals.request" and r["request_id"] == rid)


def test_each_request_has_an_id_in_its_header_and_in_its_log_lines(log_lines, draft_appeal, enterprise_admin):
    c = Client()
    c.force_login(enterprise_admin)
    resp = c.get(f"/appeals/{draft_appeal.reference}/")
    assert resp.status_code == 200
    rid = resp["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    line = _access_line(log_lines.all(), rid)
    assert list(line)[:7] == ["timestamp", "level", "logger", "message", "request_id", "user_id", "appeal"]
    assert line["level"] == "INFO" and line["user_id"] == enterprise_admin.pk and line["appeal"] == draft_appeal.reference
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["timestamp"])
    # A second request gets another id.
    assert c.get(f"/appeals/{draft_appeal.reference}/")["X-Request-ID"] != rid


def test_token_authenticated_api_requests_log_the_user(log_lines, draft_appeal, enterprise_admin):
    resp = client_for(enterprise_admin).get(f"/api/v1/appeals/{draft_appeal.reference}/")
    assert resp.status_code == 200
    line = _access_line(log_lines.all(), resp["X-Request-ID"])
    assert line["user_id"] == enterprise_admin.pk and line["appeal"] == draft_appeal.reference


def test_a_proxy_request_id_is_kept_and_anything_odd_replaced(log_lines, db):
    c = Client()
    assert c.get("/login/", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")["X-Request-ID"] == "nginx-0123456789abcdef"
    for odd in ["short", "with spaces and {json}", "x" * 65, 'evil"\n{"level": "ERROR"}']:
        rid = c.get("/login/", HTTP_X_REQUEST_ID=odd)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert all(line["request_id"] for line in log_lines.all() if line["logger"] == "appeals.request")


def test_djangos_own_error_lines_carry_the_request_id(log_lines, enterprise_admin):
    c = Client()
    c.force_login(enterprise_admin)
    resp = c.get("/appeals/AP-DOES-NOT-EXIST/")
    assert resp.status_code == 404
    warning = next(r for r in log_lines.all() if r["logger"] == "django.request")
    assert warning["level"] == "WARNING" and warning["request_id"] == resp["X-Request-ID"]
    assert warning["appeal"] == "AP-DOES-NOT-EXIST" and warning["status_code"] == 404
    assert "request" not in warning  # the request object (and its repr with the full path) is never written


def test_an_email_link_token_never_reaches_a_line(log_lines, db):
    token = "eyJhcHBlYWwiOjF9:1tAbCd:SecretSignatureValue0123456789"
    Client().get(f"/verify/email/{token}/")
    Client().get(f"/login/?next=/verify/email/{token}/")
    logging.getLogger("appeals.test").warning("link was /verify/email/%s/ and ?token=%s", token, token)
    assert log_lines.all() and token not in log_lines.text and "SecretSignatureValue" not in log_lines.text
    assert "[redacted]" in log_lines.text


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_the_tasks_a_request_queued_under_its_request_id(worker_log, log_lines, draft_appeal, enterprise_admin):
    admin = client_for(enterprise_admin)
    resp = admin.post(f"/api/v1/appeals/{draft_appeal.reference}/evidence/",
                      {"kind": "ban_notice", "file": builders.evidence_file("ban_notice")})
    assert resp.status_code == 201, resp.content
    rid = resp["X-Request-ID"]
    item = EvidenceItem.objects.get(uuid=resp.json()["uuid"])
    wait_for(lambda: EvidenceItem.objects.get(pk=item.pk).derived_status == "ready", timeout=30)
    # The task's own lines in the worker (the trace's "succeeded" line is written inside the task).
    mine = wait_for(lambda: [r for r in worker_log.records() if r["request_id"] == rid], timeout=10)
    assert any("derive_display_copies" in r["message"] and "succeeded" in r["message"] for r in mine), mine
    assert all(r["user_id"] == enterprise_admin.pk and r["appeal"] == draft_appeal.reference for r in mine)
    # ... and the request's own line in this process, under the same id.
    assert _access_line(log_lines.all(), rid)["status"] == 201


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_full_verification_logs_no_code_and_no_link(worker_log, log_lines, smtp_server, draft_appeal, enterprise_admin,
                                                      enterprise):
    """The worker sends the code (file SMS backend) and the link (SMTP) as in production; the
    test reads them where they were delivered, answers both, then greps every log line."""
    admin = client_for(enterprise_admin)
    builders.upload_required_evidence(admin, draft_appeal)
    reference = draft_appeal.reference
    assert admin.post(f"/api/v1/appeals/{reference}/submit/").json()["state"] == "submitted"
    wait_for(lambda: Message.objects.filter(appeal__reference=reference, state=MessageState.SENT).count() == 2, timeout=30)
    code = builders.last_sms_code(enterprise.legal_rep_mobile, reference)
    link = wait_for(lambda: [m for m in smtp_server.messages if m["message"]["X-Appeal-Reference"] == reference])
    path = urlparse(builders.LINK_RE.search(link[-1]["message"].get_body(("plain",)).get_content()).group(0)).path
    token = path.rstrip("/").rsplit("/", 1)[-1]

    assert admin.post(f"/api/v1/appeals/{reference}/verification/code/", {"code": "000000" if code != "000000" else "111111"},
                      format="json").status_code == 400
    assert admin.post(f"/api/v1/appeals/{reference}/verification/code/", {"code": code}, format="json").status_code == 200
    browser = Client()
    assert browser.get(path).status_code == 200 and browser.post(path).status_code == 200
    assert admin.get(f"/api/v1/appeals/{reference}/").json()["state"] == "first_review"

    here, there = log_lines.text, worker_log.text
    assert here and there  # both processes did log (requests here, sends and task lines there)
    assert any(r["logger"] == "appeals.request" and r["appeal"] == reference for r in log_lines.all())
    for text in (here, there):
        assert token not in text and token[:20] not in text
        assert not re.search(rf"(?<!\d){code}(?!\d)", text), "the SMS code is in a log line"
