"""The local inbox (`make run`): every SMS and email the app sent, on one page.

In local mode the desk cannot reach a phone or a mailbox, so the SMS code and the email link
would only be in the server's console among its start-up lines. These backends keep each
message as a file in DEV_INBOX_DIR (sms/*.json, email/*.eml), print one short line naming
the inbox, and /dev/inbox/ lists them newest first with the code and a working link. The
inbox exists only where DEV_INBOX is on (local settings); production settings switch it off,
so the page is a 404 there and no code reaches a log.
"""

from __future__ import annotations

import email
import hashlib
import json
import logging
import os
import time
from dataclasses import asdict
from email import policy
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from appeals.notifications.sms.backends.base import BaseSmsBackend

INBOX_PATH = "/dev/inbox/"


def enabled() -> bool:
    return bool(getattr(settings, "DEV_INBOX", False))


def _dir(kind: str) -> Path:
    path = Path(settings.DEV_INBOX_DIR) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(kind: str, name: str, data: bytes) -> Path:
    target = _dir(kind) / f"{time.time_ns()}-{name}"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # a file is either complete or absent
    return target


logger = logging.getLogger(__name__)


def _announce(text: str) -> None:
    logger.info("%s (read it at %s)", text, INBOX_PATH)


class SmsBackend(BaseSmsBackend):
    """Keeps each SMS in the local inbox (sms/<time>-<out id>.json)."""

    def _name(self, message) -> str:
        return hashlib.sha256(message.out_id.encode()).hexdigest()[:24] + ".json"

    def send(self, message) -> str:
        name = self._name(message)
        _write("sms", name, json.dumps(asdict(message), ensure_ascii=False).encode())
        _announce(f"SMS [{message.template}] kept in the local inbox")
        return name

    def lookup(self, message) -> bool | None:
        return any(p.name.endswith(self._name(message)) for p in _dir("sms").iterdir())


class EmailBackend(BaseEmailBackend):
    """Keeps each email in the local inbox (email/<time>-<n>.eml)."""

    def send_messages(self, email_messages) -> int:
        for n, message in enumerate(email_messages):
            _write("email", f"{n}.eml", message.message().as_bytes())
            _announce(f"Email '{message.subject}' kept in the local inbox")
        return len(email_messages)


def _sms_item(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"channel": "sms", "to": data.get("phone", ""), "subject": data.get("template", ""),
            "body": data.get("text", ""), "code": (data.get("params") or {}).get("code", "")}


def _email_item(path: Path) -> dict:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    part = message.get_body(("plain", "html"))
    return {"channel": "email", "to": message.get("To", ""), "subject": message.get("Subject", ""),
            "body": part.get_content() if part else "", "code": ""}


def items(limit: int = 200) -> list[dict]:
    """The newest messages first (file names start with the time they were kept)."""
    found = [(p, _sms_item) for p in _dir("sms").glob("*.json")] + [(p, _email_item) for p in _dir("email").glob("*.eml")]
    found.sort(key=lambda pair: pair[0].name, reverse=True)
    out = []
    for path, read in found[:limit]:
        try:
            item = read(path)
        except (OSError, ValueError):
            continue
        item["sent_ns"] = int(path.name.split("-", 1)[0])
        out.append(item)
    return out
