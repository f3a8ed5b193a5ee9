"""A local stand-in for WeCom's server API, speaking what appeals.platform uses of it over real HTTP.

- GET  /cgi-bin/gettoken?corpid=&corpsecret=          -> access_token, expires_in (40013 bad corp, 40001 bad secret)
- POST /cgi-bin/security/member_oper_log/list?access_token=
- POST /cgi-bin/security/admin_oper_log/list?access_token=
       {start_time, end_time, cursor, limit} -> {errcode, errmsg, has_more, next_cursor, record_list}

The documented refusals: an unknown token (40014), an expired one (42001), a span of more than
7 days or an end before the start (40058), a start older than 180 days (40058), more than
`rate_limit` calls in any 60 s (45009). Faults to inject: `busy` (errcodes answered before the
next list calls, e.g. [-1, 45009]), `expire_tokens()` (every issued token expires now).
Standard library only; runs in a thread on an ephemeral port (tests) or a given one
(scripts/wecom-standin.py).
"""

import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.loopback import LoopbackServer

DAY = 86400
LIST_PATHS = {"/cgi-bin/security/member_oper_log/list": "member", "/cgi-bin/security/admin_oper_log/list": "admin"}


class WeComStandIn(LoopbackServer):
    def __init__(self, *, corp_id="ww-standin", corp_secret="standin-secret", host="127.0.0.1", port=0,
                 page_size=400, token_ttl=7200, rate_limit=600, rate_window=60.0, now=time.time):
        self.corps = {corp_id: corp_secret}
        self.records = {"member": [], "admin": []}
        self.page_size, self.token_ttl, self.now = page_size, token_ttl, now
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.tokens: dict[str, float] = {}
        self.busy: deque = deque()
        self.lock = threading.Lock()
        self.calls: deque = deque()  # times of list calls, for the rate limit
        self.log: list[dict] = []  # every request: path, errcode
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, payload: dict):
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/gettoken":
                    self.send_error(404)
                    return
                self._answer(standin.gettoken(query.get("corpid", ""), query.get("corpsecret", "")))

            def do_POST(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._answer({"errcode": 47001, "errmsg": "data format error"})
                    return
                kind = LIST_PATHS.get(url.path)
                if kind is None:
                    self.send_error(404)
                    return
                self._answer(standin.list(kind, query.get("access_token", ""), body))

        super().__init__(Handler, host, port)

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- data and faults ------------------------------------------------------------------------

    def add(self, kind: str, *, time: int, userid: str, oper_type: int, detail_info: str = "", ip: str = ""):
        with self.lock:
            self.records[kind].append({"time": time, "userid": userid, "oper_type": oper_type,
                                       "detail_info": detail_info, "ip": ip})

    def expire_tokens(self):
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0

    def count(self, **match) -> int:
        return sum(1 for entry in self.log if all(entry.get(k) == v for k, v in match.items()))

    def _record(self, path: str, errcode: int, **extra) -> None:
        self.log.append({"path": path, "errcode": errcode, **extra})

    # --- the API --------------------------------------------------------------------------------

    def gettoken(self, corpid: str, secret: str) -> dict:
        with self.lock:
            if corpid not in self.corps:
                self._record("gettoken", 40013)
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if self.corps[corpid] != secret:
                self._record("gettoken", 40001)
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = uuid.uuid4().hex
            self.tokens[token] = self.now() + self.token_ttl
            self._record("gettoken", 0)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}

    def list(self, kind: str, token: str, body: dict) -> dict:
        path = kind
        with self.lock:
            now = self.now()
            expires = self.tokens.get(token)
            if expires is None:
                self._record(path, 40014)
                return {"errcode": 40014, "errmsg": "invalid access_token"}
            if expires <= now:
                self._record(path, 42001)
                return {"errcode": 42001, "errmsg": "access_token expired"}
            # The documented frequency limit: 600 calls in any minute (rate_limit in any rate_window seconds).
            while self.calls and self.calls[0] <= time.monotonic() - self.rate_window:
                self.calls.popleft()
            if len(self.calls) >= self.rate_limit:
                self._record(path, 45009)
                return {"errcode": 45009, "errmsg": "api freq out of limit"}
            self.calls.append(time.monotonic())
            if self.busy:
                errcode = self.busy.popleft()
                self._record(path, errcode, injected=True)
                return {"errcode": errcode, "errmsg": "system busy" if errcode == -1 else "api freq out of limit"}
            try:
                start, end = int(body["start_time"]), int(body["end_time"])
            except (KeyError, TypeError, ValueError):
                self._record(path, 40058)
                return {"errcode": 40058, "errmsg": "invalid start_time or end_time"}
            if end <= start or end - start > 7 * DAY:
                self._record(path, 40058, refused="span")
                return {"errcode": 40058, "errmsg": "invalid time range: the span may not exceed 7 days"}
            if start < now - 180 * DAY or end >= now + 60:
                self._record(path, 40058, refused="age")
                return {"errcode": 40058, "errmsg": "invalid time range: not earlier than 180 days, before now"}
            limit = max(1, min(int(body.get("limit") or 400), 400, self.page_size))
            offset = int(body.get("cursor") or 0)
            matching = sorted((r for r in self.records[kind] if start <= r["time"] <= end), key=lambda r: r["time"])
            page = matching[offset: offset + limit]
            has_more = offset + limit < len(matching)
            self._record(path, 0, records=len(page))
            return {"errcode": 0, "errmsg": "ok", "has_more": has_more,
                    "next_cursor": str(offset + limit) if has_more else "", "record_list": page}
