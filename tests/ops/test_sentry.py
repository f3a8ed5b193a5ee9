"""Sentry only when SENTRY_DSN is set; then no personal data, body or local variables, and the
request id as a tag. The "Sentry server" is a loopback HTTP server taking its envelopes."""

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.conf import settings

from tests.ops.test_production_start import CLEAN, ROOT


def test_sentry_is_not_initialised_without_a_dsn():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


@pytest.fixture
def sentry_server():
    envelopes = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            envelopes.append((self.path, body.decode()))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], envelopes
    server.shutdown()


def test_with_a_dsn_errors_go_to_sentry_tagged_with_the_request_id(sentry_server):
    port, envelopes = sentry_server
    script = (
        "import os, sentry_sdk\n"
        "from appeals.shared import context\n"
        "context.request_id.set('rid-0123456789')\n"
        "def verify(code):\n"
        "    secret_code = code\n"
        "    raise ValueError('wrong answer')\n"
        "try:\n"
        "    verify(os.environ['THE_CODE'])\n"
        "except ValueError:\n"
        "    sentry_sdk.capture_exception()\n"
        "sentry_sdk.capture_message('failed at /verify/email/' + os.environ['THE_TOKEN'] + '/')\n"
        "sentry_sdk.flush(5)\n"
        "print(sentry_sdk.get_client().is_active())\n"
    )
    env = {**CLEAN, "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1", "DATABASE_URL": "sqlite:///:memory:",
           "THE_CODE": "654321", "THE_TOKEN": "eyJhIjoxfQ:1tAbCd:SentrySignatureSecret"}
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
    assert envelopes and envelopes[0][0] == "/api/1/envelope/"
    events = [json.loads(line) for _path, body in envelopes for line in body.splitlines() if '"event_id"' in line
              and ('"exception"' in line or '"message"' in line)]
    (event,) = [e for e in events if "exception" in e]
    (message,) = [e for e in events if "exception" not in e]
    assert message["message"] == "failed at /verify/email/[redacted]/"
    assert all("SentrySignatureSecret" not in body for _path, body in envelopes)
    assert event["tags"]["request_id"] == "rid-0123456789"
    assert event["exception"]["values"][-1]["value"] == "wrong answer"
    # No local variables (the code was in one: the source lines are sent, the values never), nothing personal.
    assert "654321" not in json.dumps(event) and "user" not in event
    assert all("vars" not in frame for value in event["exception"]["values"] for frame in value["stacktrace"]["frames"])
