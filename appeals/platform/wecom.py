"""A small client of WeCom's server API: gettoken and the two operation-log lists.

No database here: the caller gives the cached token and receives the new one (`on_token`),
and is told of every retry (`on_retry`) and page (`on_page`). What it does about WeCom's answers:

- errcode 40014 / 42001 / 40001 on a list call (token invalid or expired): fetch a new token,
  once, and ask again;
- errcode -1 (system busy), 45009 (frequency limit) and transport errors or HTTP 5xx: try
  again after BACKOFF_BASE * 2**n seconds, at most MAX_RETRIES times in a row;
- anything else: a WeComError with the errcode and a message people can read.

Every call first takes a token from the shared 600-a-minute budget (ratelimit.RateLimiter).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
BUSY_ERRCODES = frozenset({-1, 45009})
MEMBER_LOG = "/cgi-bin/security/member_oper_log/list"
ADMIN_LOG = "/cgi-bin/security/admin_oper_log/list"
ENDPOINTS = {"member": MEMBER_LOG, "admin": ADMIN_LOG}


class WeComError(Exception):
    """WeCom refused, or could not be reached after the retries. `message` is for people."""

    def __init__(self, message: str, *, errcode: int | None = None, errmsg: str = ""):
        self.message, self.errcode, self.errmsg = message, errcode, errmsg
        super().__init__(message if errcode is None else f"{message} (errcode {errcode}: {errmsg})")


@dataclass
class Token:
    value: str
    expires_at: datetime


def split_windows(start: datetime, end: datetime, *, max_days: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows of at most `max_days` each."""
    span = timedelta(days=max_days)
    out, cursor = [], start
    while cursor < end:
        stop = min(cursor + span, end)
        out.append((cursor, stop))
        cursor = stop
    return out


class WeComClient:
    def __init__(self, *, api_base: str, corp_id: str, corp_secret: str, limiter, token: Token | None = None,
                 on_token: Callable[[Token], None] | None = None, on_retry: Callable[[str], None] | None = None,
                 max_retries: int = 6, backoff_base: float = 1.0, backoff_max: float = 30.0, timeout: float = 10.0,
                 sleep=time.sleep, now=None, transport=None):
        self.api_base = api_base.rstrip("/")
        self.corp_id, self._secret = corp_id, corp_secret
        self.limiter = limiter
        self._token = token
        self.on_token, self.on_retry = on_token, on_retry
        self.max_retries, self.backoff_base, self.backoff_max = max_retries, backoff_base, backoff_max
        self.sleep = sleep
        self.now = now or (lambda: datetime.now().astimezone())
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                 headers={"User-Agent": "appeal-desk"})
        self.calls = 0
        self.retries = 0
        self.token_refreshes = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport with backoff ---------------------------------------------------------------

    def _backoff(self, attempt: int, reason: str) -> None:
        if attempt >= self.max_retries:
            raise WeComError(_("WeCom stayed busy after %(n)s attempts; try again later.") % {"n": attempt + 1})
        self.retries += 1
        if self.on_retry:
            self.on_retry(reason)
        delay = min(self.backoff_max, self.backoff_base * 2 ** attempt)
        logger.info("wecom: %s; retrying in %.1f s", reason, delay)
        self.sleep(delay)

    def _request(self, method: str, path: str, *, params: dict, body: dict | None = None) -> dict:
        """One API call, retried on busy answers; returns the decoded JSON (errcode may be non-zero)."""
        attempt = 0
        while True:
            self.limiter.acquire()
            self.calls += 1
            try:
                response = self.http.request(method, self.api_base + path, params=params, json=body)
            except httpx.HTTPError as exc:
                self._backoff(attempt, f"transport error {type(exc).__name__}")
                attempt += 1
                continue
            if response.status_code >= 500:
                self._backoff(attempt, f"HTTP {response.status_code}")
                attempt += 1
                continue
            try:
                data = response.json()
            except ValueError:
                raise WeComError(_("WeCom answered something that is not JSON (HTTP %(status)s).")
                                 % {"status": response.status_code}) from None
            if not isinstance(data, dict):
                raise WeComError(_("WeCom answered something that is not JSON (HTTP %(status)s).")
                                 % {"status": response.status_code})
            if data.get("errcode") in BUSY_ERRCODES:
                self._backoff(attempt, f"errcode {data.get('errcode')}")
                attempt += 1
                continue
            return data

    # --- token ----------------------------------------------------------------------------------

    def refresh_token(self) -> Token:
        data = self._request("GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self._secret})
        errcode = data.get("errcode", 0)
        if errcode != 0 or not data.get("access_token"):
            if errcode in (40001, 40013, 40091, 40056):
                raise WeComError(_("WeCom refused the corp ID or secret; check them and connect the app again."),
                                 errcode=errcode, errmsg=str(data.get("errmsg", ""))[:200])
            raise WeComError(_("WeCom refused to issue an access token."), errcode=errcode,
                             errmsg=str(data.get("errmsg", ""))[:200])
        # Renew a few minutes early so a token never expires in the middle of a call.
        lifetime = max(60, int(data.get("expires_in", 7200)) - 300)
        self._token = Token(str(data["access_token"]), self.now() + timedelta(seconds=lifetime))
        self.token_refreshes += 1
        if self.on_token:
            self.on_token(self._token)
        return self._token

    def token(self) -> str:
        if self._token is None or self._token.expires_at <= self.now():
            self.refresh_token()
        return self._token.value

    # --- the operation-log lists --------------------------------------------------------------

    def list_page(self, kind: str, *, start: int, end: int, cursor: str = "", limit: int = 400) -> dict:
        """One page of `kind` ("member" or "admin") records between two epoch seconds (end inclusive)."""
        body = {"start_time": start, "end_time": end, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        refreshed = False
        while True:
            data = self._request("POST", ENDPOINTS[kind], params={"access_token": self.token()}, body=body)
            errcode = data.get("errcode", 0)
            if errcode == 0:
                return data
            if errcode in TOKEN_ERRCODES and not refreshed:
                refreshed = True
                self.refresh_token()
                continue
            if errcode in (48002, 60011, 301002):
                raise WeComError(_("The app may not read the operation records: add it to the apps allowed to call "
                                   "the security API in the WeCom admin console."), errcode=errcode,
                                 errmsg=str(data.get("errmsg", ""))[:200])
            raise WeComError(_("WeCom refused the request for operation records."), errcode=errcode,
                             errmsg=str(data.get("errmsg", ""))[:200])

    def pages(self, kind: str, *, start: int, end: int, limit: int = 400, max_pages: int = 5000):
        """Every page of one window, following `next_cursor` while `has_more`."""
        cursor = ""
        for _n in range(max_pages):
            page = self.list_page(kind, start=start, end=end, cursor=cursor, limit=limit)
            yield page
            cursor = str(page.get("next_cursor") or "")
            if not page.get("has_more") or not cursor:
                return
        raise WeComError(_("More than %(n)s pages of records in one window; stopped.") % {"n": max_pages})
