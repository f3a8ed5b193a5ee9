"""Cases that pass every intake guard, built through the real services (no state written by hand).

`submitted_appeal` uploads one small valid file for each kind the completeness checklist asks
for, submits, has the two verification messages delivered through the outbox (in-process with
the locmem SMS backend and Django's mail backend, or by the session's worker when it would take
them), reads the code and the link where they arrived and answers both: the case then sits in
first review exactly as a real applicant's would.
"""

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.db import connection

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as evidence_services
from appeals.models import Appeal, AppealState, Message, MessageState
from appeals.notifications import sms
from appeals.notifications.outbox import message_deliver
from appeals.verification import services as verification_services
from tests.evidence import files

LINK_RE = re.compile(r"https?://\S+/verify/email/(?P<token>[^/\s]+)/")

# What the session's Celery worker process delivers (tests/conftest.py starts it with the file
# SMS backend writing to settings.SMS_FILE_PATH, and SMTP to the session's loopback server):
# in a transactional test it takes the messages, and the test reads them there.
worker_mailbox: list[dict] = []  # the session SMTP server's `messages`, once it runs
session_worker_running = False  # set by tests/conftest.py's celery_worker_process


def worker_delivers() -> bool:
    """Will the session's worker take this test's messages? Only committed rows (a transactional
    test) published to the default queue while it runs; otherwise the test delivers in-process."""
    return session_worker_running and not connection.in_atomic_block and not settings.NOTIFICATIONS["QUEUE"]


# --- evidence ------------------------------------------------------------------------------------


def evidence_content(kind: str) -> tuple[str, bytes]:
    """(file name, bytes) of a small file that passes the content checks for `kind`."""
    if kind == "operation_log":
        return "log.csv", files.log_csv(["2026-11-20 10:00:00,wx-1,master,login,,hello,10.0.0.1,dev-1"]).encode()
    if kind in ("business_license", "authorization_letter"):
        return f"{kind}.pdf", files.pdf_bytes()
    return f"{kind}.png", files.image_bytes("PNG")


def evidence_file(kind: str):
    return files.upload(*evidence_content(kind))


def attach_required_evidence(appeal: Appeal, by) -> list:
    """Upload one valid file for every kind the checklist still misses (see EVIDENCE_REQUIRED)."""
    return [evidence_services.evidence_upload(appeal=appeal, by=by, kind=entry.kind, file=evidence_file(entry.kind))
            for entry in evidence_services.evidence_missing(appeal)]


def upload_required_evidence(client, appeal: Appeal) -> list:
    """Upload every missing kind through the API with `client` (as the case page's panel does)."""
    responses = []
    for entry in evidence_services.evidence_missing(appeal):
        response = client.post(f"/api/v1/appeals/{appeal.reference}/evidence/",
                               {"kind": entry.kind, "file": evidence_file(entry.kind)})
        assert response.status_code == 201, response.content
        responses.append(response)
    return responses


# --- the delivery path -----------------------------------------------------------------------------


def deliver_queued(appeal: Appeal | None = None) -> list:
    """Run the outbox's delivery service in-process for queued messages (what a worker would do)."""
    queued = Message.objects.filter(state=MessageState.QUEUED)
    if appeal is not None:
        queued = queued.filter(appeal=appeal)
    return [message_deliver(message_id=pk) for pk in queued.order_by("id").values_list("pk", flat=True)]


def worker_sms_files() -> list[dict]:
    """The SMS the worker's file backend wrote, oldest first."""
    folder = Path(settings.SMS_FILE_PATH)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _mail_bodies() -> list[tuple[list[str], str]]:
    """Every email delivered so far: Django's outbox, then what the worker sent over SMTP."""
    return [(m.to, m.body) for m in mail.outbox] + [
        (received["rcpt"], received["message"].get_body(("plain",)).get_content()) for received in worker_mailbox
    ]


def last_sms_code(phone: str | None = None, reference: str | None = None) -> str:
    """The code of the newest SMS to `phone` (about the appeal `reference`)."""
    local = [{"phone": m.phone, **m.params} for m in sms.outbox]
    for sent in (local, [{"phone": m["phone"], **m["params"]} for m in worker_sms_files()]):
        for params in reversed(sent):
            if "code" in params and phone in (None, params["phone"]) and reference in (None, params.get("reference")):
                return params["code"]
    raise AssertionError("no SMS with a code in the outbox")


def last_email_token(to: str | None = None, reference: str | None = None) -> str:
    """The token of the newest verification link mailed to `to` (about the appeal `reference`)."""
    for rcpt, body in reversed(_mail_bodies()):
        if (to is None or to in rcpt) and (reference is None or reference in body):
            match = LINK_RE.search(body)
            if match:
                return match.group("token")
    raise AssertionError("no email with a verification link in the outbox")


def sms_code_for(appeal: Appeal) -> str:
    return last_sms_code(appeal.enterprise.legal_rep_mobile, appeal.reference)


def email_token_for(appeal: Appeal) -> str:
    return last_email_token(appeal.enterprise.admin_email, appeal.reference)


def wait_until_delivered(appeal: Appeal, timeout: float = 20.0) -> None:
    """Every message of this appeal has left the outbox (sent in-process or by the worker)."""
    deadline = time.monotonic() + timeout
    while Message.objects.filter(appeal=appeal, state__in=(MessageState.QUEUED, MessageState.SENDING)).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"messages of {appeal.reference} still waiting after {timeout} s")
        time.sleep(0.05)


# --- cases at each stage ---------------------------------------------------------------------------


def pass_verification(appeal: Appeal, *, by=None, read_code: Callable[[Appeal], str] = sms_code_for,
                      read_link: Callable[[Appeal], str] = email_token_for) -> Appeal:
    """Deliver this appeal's code and link, read them where they arrived, answer both."""
    if not worker_delivers():
        deliver_queued(appeal)
    wait_until_delivered(appeal)
    code, token = read_code(appeal), read_link(appeal)
    appeal = verification_services.verification_check_code(appeal=appeal, code=code, by=by)
    check = verification_services.verification_confirm_email(token=token)
    assert check.status == "verified", check.status
    appeal.refresh_from_db()
    return appeal


def submitted_appeal(appeal: Appeal, by, **readers) -> Appeal:
    """Evidence complete, submitted, both proofs given: the case lands in first review."""
    attach_required_evidence(appeal, by)
    appeal = appeal_services.appeal_submit(appeal=appeal, by=by)
    assert appeal.state == AppealState.SUBMITTED, appeal.state  # held by the verification guard
    appeal = pass_verification(appeal, by=by, **readers)
    assert appeal.state == AppealState.FIRST_REVIEW, appeal.state
    return appeal


def appeal_in_first_review(appeal: Appeal, by, *, reviewer, **readers) -> Appeal:
    """Submitted, verified and claimed by `reviewer`."""
    return appeal_services.appeal_claim(appeal=submitted_appeal(appeal, by, **readers), by=reviewer)


def appeal_in_second_review(appeal: Appeal, by, *, reviewer, decision: str = "approve", comment: str = "", **readers) -> Appeal:
    """Recommended by `reviewer` in first review; waiting for a second person."""
    appeal = appeal_in_first_review(appeal, by, reviewer=reviewer, **readers)
    return appeal_services.appeal_first_review(appeal=appeal, by=reviewer, decision=decision, comment=comment)
