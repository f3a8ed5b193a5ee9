"""A webhook receiver on loopback, written the way docs/webhooks.md tells integrators to write one.

It checks every request's signature and timestamp (the replay window) with the secret it was
given, and deduplicates by `webhook-id`: an id it has processed is acknowledged again without
being processed again. Its answers follow a script, one step per request in arrival order
(then "ok"), so a test can make it flaky on purpose:

- ("status", 500)   answer that status without processing (("status", 429, {"retry-after": "120"}): with headers);
- ("timeout", s)    hold the request s seconds (past the sender's timeout), process nothing;
- ("slow", s)       take s seconds (within the timeout), then process and answer 200;
- ("late_ack", s)   process, then take s seconds (past the timeout) to answer 200: the sender
                    never sees the answer and sends again; the id makes that harmless;
- "ok"              process and answer 200.
"""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from appeals.notifications.webhook import verify

REPLAY_WINDOW = 300


class Receiver:
    def __init__(self, *, secret: str = "", script=None):
        self.secret = secret
        self.script = list(script or [])
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every request: id, valid, answer
        self.processed: dict[str, dict] = {}  # webhook-id -> body, first processing only
        self.process_count: Counter = Counter()  # webhook-id -> times processed (must stay 1)
        self.acked_in_time: set[str] = set()  # ids answered 2xx promptly (the sender saw it)
        self.after_ack: Counter = Counter()  # requests for an id after a prompt 2xx (duplicates)
        self.invalid = 0
        self._server = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    # -- what a receiver does --------------------------------------------------------------------------

    def _next_step(self):
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def _process(self, msg_id: str, body: bytes) -> None:
        with self.lock:
            if msg_id in self.processed:
                return  # seen: acknowledged again, not processed again
            self.processed[msg_id] = json.loads(body)
            self.process_count[msg_id] += 1

    def _answer(self, handler, status: int, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("content-length", "0")
            handler.end_headers()
        except OSError:  # the sender gave up (timeout) and closed the connection
            pass

    def _handle(self, handler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        msg_id = headers.get("webhook-id", "")
        valid = verify(secret=self.secret, headers=headers, body=body, tolerance=REPLAY_WINDOW)
        with self.lock:
            record = {"id": msg_id, "valid": valid, "at": time.time(), "signatures": headers.get("webhook-signature", ""),
                      "host": headers.get("host", "")}
            self.requests.append(record)
            if msg_id in self.acked_in_time:
                self.after_ack[msg_id] += 1
        if not valid:
            with self.lock:
                self.invalid += 1
            record["answer"] = 401
            return self._answer(handler, 401)
        step = self._next_step()
        kind, arg, extra = (step, None, None) if isinstance(step, str) else (*step, None)[:3]
        if kind == "status":
            record["answer"] = arg
            return self._answer(handler, arg, extra)
        if kind == "timeout":
            record["answer"] = "timeout"
            time.sleep(arg)
            return self._answer(handler, 500)
        if kind == "late_ack":
            self._process(msg_id, body)
            record["answer"] = "late_ack"
            time.sleep(arg)
            return self._answer(handler, 200)
        if kind == "slow":
            time.sleep(arg)
        self._process(msg_id, body)
        with self.lock:
            self.acked_in_time.add(msg_id)
        record["answer"] = 200
        return self._answer(handler, 200)
