"""Delivery backends for benchmarks/load_topology.py (not a benchmark itself).

The topology's workers deliver through these: each is the stock file backend (SMS: one JSON
file per idempotency key, with its `lookup` for a worker that died mid-send; email: Django's
file backend) and, in addition, appends one JSON line per provider call to a journal
(LOAD_JOURNAL_DIR/sms.jsonl, email.jsonl). A write of one short line with O_APPEND is atomic,
so two workers never interleave; the load test reads the code and the link there and counts
provider calls per message key (a message sent twice shows up twice)."""

import json
import os
import re
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as DjangoFileEmailBackend

from appeals.notifications.sms.backends.filebased import SmsBackend as FileSmsBackend


def _journal(name: str, record: dict) -> None:
    folder = Path(os.environ.get("LOAD_JOURNAL_DIR", "."))
    folder.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    fd = os.open(folder / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class SmsBackend(FileSmsBackend):
    def send(self, message) -> str:
        # LOAD_SEND_DELAY: a provider that takes this long, so a worker killed mid-run is likely mid-send.
        time.sleep(float(os.environ.get("LOAD_SEND_DELAY", "0")))
        stem = super().send(message)
        _journal("sms.jsonl", {"key": message.out_id, "phone": message.phone, "params": message.params, "pid": os.getpid()})
        return stem


LINK_RE = re.compile(r"/verify/email/(?P<token>[^/\s]+)/")


class EmailBackend(DjangoFileEmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):  # the settings do not read EMAIL_FILE_PATH
        super().__init__(*args, file_path=file_path or os.environ.get("EMAIL_FILE_PATH", "mail-outbox"), **kwargs)

    def write_message(self, message):
        time.sleep(float(os.environ.get("LOAD_SEND_DELAY", "0")))
        super().write_message(message)
        body = message.body if isinstance(message.body, str) else ""
        link = LINK_RE.search(body)
        _journal("email.jsonl", {"key": message.extra_headers.get("X-Appeal-Desk-Message", ""),
                                 "reference": message.extra_headers.get("X-Appeal-Reference", ""),
                                 "to": list(message.to), "token": link.group("token") if link else "", "pid": os.getpid()})
