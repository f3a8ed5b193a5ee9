"""The console email backend (the default EMAIL_BACKEND) prints a verification link only in
local mode: elsewhere its stream is a process's log."""

import io

from django.core import mail

LINK = "https://appeals.example.com/verify/email/eyJhIjoxfQ:1tAbCd:SignatureSecret0123/"


def _send(stream):
    backend = mail.get_connection("appeals.notifications.console.EmailBackend", stream=stream)
    mail.EmailMessage("Confirm your email", f"Open {LINK} within 24 hours.", "desk@example.com", ["li.na@example.com"],
                      connection=backend).send()


def test_the_link_is_printed_in_local_mode(settings):
    settings.CONSOLE_MESSAGES_IN_FULL = True
    stream = io.StringIO()
    _send(stream)
    assert LINK in stream.getvalue() and "li.na@example.com" in stream.getvalue()


def test_only_who_and_what_otherwise(settings):
    settings.CONSOLE_MESSAGES_IN_FULL = False
    stream = io.StringIO()
    _send(stream)
    out = stream.getvalue()
    assert "SignatureSecret0123" not in out and "li.na@" not in out
    assert out == ("Email to l***@example.com: 'Confirm your email' (101 characters; text not shown: "
                   "CONSOLE_MESSAGES_IN_FULL is off)\n")


def test_local_settings_show_messages_and_production_does_not():
    import subprocess
    import sys

    from tests.ops.test_production_start import CLEAN, ROOT, _production_env

    probe = "from django.conf import settings as s; print(s.CONSOLE_MESSAGES_IN_FULL, s.EMAIL_BACKEND)"
    local = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", probe], cwd=ROOT, env=CLEAN,
                           capture_output=True, text=True, timeout=60)
    # Local settings keep messages in the local inbox (/dev/inbox/) by default...
    assert local.stdout.split() == ["True", "appeals.notifications.dev_inbox.EmailBackend"], local.stderr
    # ...and print them in full on the console when the inbox is switched off.
    console = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", probe], cwd=ROOT,
                             env={**CLEAN, "DEV_INBOX": "false"}, capture_output=True, text=True, timeout=60)
    assert console.stdout.split() == ["True", "appeals.notifications.console.EmailBackend"], console.stderr
    prod = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", probe], cwd=ROOT,
                          env=_production_env(), capture_output=True, text=True, timeout=60)
    assert prod.stdout.split() == ["False", "appeals.notifications.console.EmailBackend"], prod.stderr
