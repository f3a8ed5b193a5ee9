"""Real servers on loopback for the verification tests: an SMTP server and a fake Alibaba SMS API.

Both bind 127.0.0.1 on an ephemeral port and are stopped by the fixture that started them.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote

from aiosmtpd.controller import Controller

from tests.loopback import LoopbackJSONServer


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": parsed})
        return "250 Message accepted for delivery"


class LoopbackSMTP(Controller):
    """aiosmtpd on 127.0.0.1 port 0: the kernel picks the port, read back after binding."""

    def __init__(self):
        self.collector = _Collector()
        super().__init__(self.collector, hostname="127.0.0.1", port=0)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    @property
    def messages(self):
        return self.collector.messages


# --- a local stand-in for dysmsapi.aliyuncs.com --------------------------------------------------


def _pct(value: str) -> str:
    # Written independently of the adapter: RFC 3986 unreserved characters stay, all else %XX.
    return quote(value, safe="-_.~")


def expected_signature(method: str, params: dict, secret: str) -> str:
    query = "&".join(_pct(k) + "=" + _pct(v) for k, v in sorted(params.items()) if k != "Signature")
    to_sign = method + "&" + _pct("/") + "&" + _pct(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeAlibabaSms(LoopbackJSONServer):
    """Checks each request's signature and answers like dysmsapi (SendSms, QuerySendDetails).

    `script` is a list of error codes to answer to the next SendSms calls in order (then OK);
    `delay_seconds` holds the answer of each accepted SendSms after it has been recorded (a
    slow provider: a worker can be killed while it waits).
    """

    CONTENT_TYPE = "application/json;charset=utf-8"
    KEY_ID = "LTAI-test-key"
    SECRET = "test-secret-never-used-elsewhere"

    def __init__(self):
        self.sent: list[dict] = []  # every accepted SendSms, in order
        self.requests: list[dict] = []
        self.script: list[str] = []
        self.delay_seconds = 0.0
        self.received = threading.Event()
        self.lock = threading.Lock()
        self.nonces: set[str] = set()
        super().__init__()

    def answer(self, headers: dict, body: bytes):
        return self.handle("POST", dict(parse_qsl(body.decode(), keep_blank_values=True)))

    def _error(self, status, code, message):
        return status, {"Code": code, "Message": message, "RequestId": uuid.uuid4().hex}

    def handle(self, method: str, params: dict):
        with self.lock:
            self.requests.append(params)
        for required in ("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp",
                         "Version", "Signature"):
            if required not in params:
                return self._error(400, "MissingParameter", f"{required} is mandatory")
        if params["AccessKeyId"] != self.KEY_ID:
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return self._error(400, "InvalidParameter", "signature method")
        if params["Signature"] != expected_signature(method, params, self.SECRET):
            return self._error(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > 900:
            return self._error(400, "InvalidTimeStamp.Expired", "timestamp")
        with self.lock:
            if params["SignatureNonce"] in self.nonces:
                return self._error(400, "SignatureNonceUsed", "nonce used")
            self.nonces.add(params["SignatureNonce"])
        if params["Version"] != "2017-05-25":
            return self._error(400, "InvalidVersion", "version")
        if params["Action"] == "SendSms":
            return self._send(params)
        if params["Action"] == "QuerySendDetails":
            return self._query(params)
        return self._error(400, "InvalidAction.NotFound", "action")

    def _send(self, params):
        for required in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(required):
                return self._error(200, "isv.INVALID_PARAMETERS", f"{required} missing")
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted == "http_500":
            return 500, {"Code": "isp.SYSTEM_ERROR", "Message": "system error"}
        if scripted:
            return self._error(200, scripted, "scripted failure")
        if not params["PhoneNumbers"].isdigit() or len(params["PhoneNumbers"]) != 11:
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number")
        try:
            json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error(200, "isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
        biz_id = f"{int(time.time())}^{uuid.uuid4().hex[:10]}"
        with self.lock:
            self.sent.append({**params, "BizId": biz_id, "SendDate": datetime.now().strftime("%Y%m%d")})
        self.received.set()
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": uuid.uuid4().hex}

    def _query(self, params):
        phone, page, size = params.get("PhoneNumber"), int(params.get("CurrentPage", 1)), int(params.get("PageSize", 10))
        with self.lock:
            rows = [s for s in self.sent if s["PhoneNumbers"] == phone and s["SendDate"] == params.get("SendDate")]
        chunk = rows[(page - 1) * size: page * size]
        dtos = [{"PhoneNum": r["PhoneNumbers"], "OutId": r.get("OutId", ""), "TemplateCode": r["TemplateCode"], "SendStatus": 3,
                 "ErrCode": "DELIVERED", "Content": "", "SendDate": "", "ReceiveDate": ""} for r in chunk]
        return 200, {"Code": "OK", "Message": "OK", "TotalCount": len(rows), "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos},
                     "RequestId": uuid.uuid4().hex}

    def sent_for(self, out_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.sent if s.get("OutId") == out_id]


# --- a mail relay that can be asked whether it accepted a message --------------------------------


class _RelayHandler:
    def __init__(self, relay):
        self.relay = relay

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.relay.lock:
            self.relay.accepted.append({"to": list(envelope.rcpt_tos), "message": parsed,
                                        "message_id": parsed["Message-ID"], "key": parsed["X-Appeal-Desk-Message"]})
        self.relay.received.set()
        if self.relay.delay_seconds:
            # Committed to delivery, slow to say so: a worker can be killed while it waits.
            await asyncio.sleep(self.relay.delay_seconds)
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class LoopbackMailRelay:
    """SMTP on loopback plus a look-up API (GET /accepted?message_id=...), like a mail
    provider's "find message by Message-ID": the outbox asks it (NOTIFICATIONS["EMAIL_LOOKUP"])
    about an email whose worker died mid-send. `delay_seconds` holds the 250 reply after the
    message has been accepted."""

    def __init__(self):
        self.accepted: list[dict] = []
        self.lock = threading.Lock()
        self.received = threading.Event()
        self.delay_seconds = 0.0
        self.smtp = _AnyPortController(_RelayHandler(self), hostname="127.0.0.1", port=0)
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = dict(parse_qsl(self.path.partition("?")[2]))
                with relay.lock:
                    found = any(a["message_id"] == query.get("message_id") for a in relay.accepted)
                data = json.dumps({"accepted": found}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def lookup_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/accepted"

    def start(self):
        self.smtp.start()
        self.thread.start()
        return self

    def stop(self):
        self.smtp.stop()
        self.http.shutdown()
        self.http.server_close()

    def sent_for(self, key: str) -> list[dict]:
        with self.lock:
            return [a for a in self.accepted if a["key"] == key]


def relay_lookup(*, message_id: str, recipient: str) -> bool | None:
    """NOTIFICATIONS["EMAIL_LOOKUP"] for workers that mail through LoopbackMailRelay."""
    import os
    import urllib.parse
    import urllib.request

    url = os.environ["TEST_MAIL_RELAY_LOOKUP_URL"] + "?" + urllib.parse.urlencode({"message_id": message_id})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(json.loads(response.read())["accepted"])
    except OSError:
        return None  # cannot tell: the outbox marks the message failed, never sends blind
