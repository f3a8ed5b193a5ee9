"""The WeCom client against the local stand-in over HTTP: tokens, paging, busy answers, the
7-day windows, the shared rate limit."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from appeals.platform import ratelimit
from appeals.platform.ratelimit import RateLimiter
from appeals.platform.wecom import WeComClient, WeComError, split_windows
from tests.platform.conftest import CORP_ID, CORP_SECRET, now


class NoLimit:
    def acquire(self):
        pass


def client_for(server, *, secret=CORP_SECRET, limiter=None, sleeps=None, **kwargs):
    return WeComClient(api_base=server.url, corp_id=CORP_ID, corp_secret=secret, limiter=limiter or NoLimit(),
                       sleep=(sleeps.append if sleeps is not None else time.sleep), **kwargs)


def test_pages_follow_the_cursor_until_has_more_is_false(wecom):
    wecom.page_size = 100
    t = now() - 3600
    for i in range(1000):
        wecom.add("member", time=t - i, userid=f"u{i % 7}", oper_type=1, ip="10.0.0.1")
    with client_for(wecom) as client:
        pages = list(client.pages("member", start=t - 86400, end=t))
    assert len(pages) == 10 and sum(len(p["record_list"]) for p in pages) == 1000
    assert pages[-1]["has_more"] is False and all(p["has_more"] for p in pages[:-1])
    assert wecom.count(path="gettoken", errcode=0) == 1  # one token for all ten pages


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(wecom):
    t = now() - 3600
    wecom.add("member", time=t, userid="u1", oper_type=4, ip="10.0.0.1")
    with client_for(wecom) as client:
        client.list_page("member", start=t - 60, end=t)
        wecom.expire_tokens()
        page = client.list_page("member", start=t - 60, end=t)
    assert len(page["record_list"]) == 1
    assert wecom.count(path="member", errcode=42001) == 1
    assert wecom.count(path="gettoken", errcode=0) == 2 and client.token_refreshes == 2


def test_busy_answers_are_retried_with_exponential_backoff(wecom):
    t = now() - 3600
    wecom.add("admin", time=t, userid="boss", oper_type=3)
    wecom.busy.extend([-1, 45009, -1])
    sleeps, retried = [], []
    with client_for(wecom, sleeps=sleeps, backoff_base=0.5, on_retry=retried.append) as client:
        page = client.list_page("admin", start=t - 60, end=t)
    assert len(page["record_list"]) == 1
    assert sleeps == [0.5, 1.0, 2.0] and client.retries == 3
    assert retried == ["errcode -1", "errcode 45009", "errcode -1"]


def test_a_platform_that_stays_busy_fails_with_a_readable_error(wecom):
    wecom.busy.extend([45009] * 10)
    with client_for(wecom, sleeps=[], max_retries=3) as client, pytest.raises(WeComError) as caught:
        client.list_page("member", start=now() - 7200, end=now() - 3600)
    assert "busy" in caught.value.message and client.retries == 3


def test_a_wrong_secret_is_refused_clearly(wecom):
    with client_for(wecom, secret="wrong") as client, pytest.raises(WeComError) as caught:
        client.list_page("member", start=now() - 7200, end=now() - 3600)
    assert caught.value.errcode == 40001 and "secret" in caught.value.message
    assert "wrong" not in str(caught.value)


def test_the_stand_in_refuses_more_than_seven_days_and_the_windows_never_ask_for_it(wecom):
    with client_for(wecom) as client:
        with pytest.raises(WeComError) as caught:
            client.list_page("member", start=now() - 9 * 86400, end=now() - 3600)
        assert caught.value.errcode == 40058
        assert wecom.count(refused="span") == 1
        # Twenty days cut into windows of at most 7 days: every call accepted.
        end = datetime.now(UTC) - timedelta(hours=1)
        windows = split_windows(end - timedelta(days=20), end, max_days=7)
        assert [round((b - a).total_seconds() / 86400, 3) for a, b in windows] == [7, 7, 6]
        for start, stop in windows:
            list(client.pages("member", start=int(start.timestamp()), end=int(stop.timestamp()) - 1))
    assert wecom.count(refused="span") == 1 and wecom.count(path="member", errcode=0) == 3


@pytest.mark.django_db
def test_the_rate_limit_is_shared_and_keeps_the_platform_from_answering_45009(wecom):
    """The stand-in allows 20 calls in any second; two clients (as two worker processes would)
    share one Redis bucket of 20 a second and are never refused. Without it, 45009 comes back
    and is retried with backoff."""
    wecom.rate_limit, wecom.rate_window, wecom.page_size = 20, 1.0, 1
    t = now() - 3600
    for i in range(30):
        wecom.add("member", time=t - i, userid="u", oper_type=1)
        wecom.add("admin", time=t - i, userid="boss", oper_type=3)
    limiters = [RateLimiter(CORP_ID, calls=20, period=1.0, burst=2) for _ in range(2)]
    started = time.monotonic()
    with client_for(wecom, limiter=limiters[0]) as a, client_for(wecom, limiter=limiters[1]) as b:
        pages_a, pages_b = a.pages("member", start=t - 60, end=t), b.pages("admin", start=t - 60, end=t)
        fetched = 0
        for pa, pb in zip(pages_a, pages_b, strict=True):
            fetched += len(pa["record_list"]) + len(pb["record_list"])
    elapsed = time.monotonic() - started
    assert fetched == 60 and wecom.count(errcode=45009) == 0 and a.retries == b.retries == 0
    assert elapsed >= (62 - 2) / 18 * 0.9  # 62 calls (2 tokens + 60 pages), 18 a second after a burst of 2
    wecom.rate_limit = 5  # and a stricter platform, so that even a slow machine runs into it
    with client_for(wecom, backoff_base=0.1, backoff_max=0.5, max_retries=20) as client:
        pages = list(client.pages("member", start=t - 60, end=t))
    assert len(pages) == 30 and wecom.count(errcode=45009) >= 1 and client.retries >= 1


def test_the_limiter_fails_open_to_a_local_bucket_when_redis_is_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:18099/0"  # nothing listens there
    ratelimit._down_until = 0.0
    try:
        limiter = RateLimiter("ww-down", calls=100, period=1.0, burst=5)
        started = time.monotonic()
        for _ in range(25):
            limiter.acquire()
        assert 0.15 < time.monotonic() - started < 2.0  # limited locally: 5 at once, then 95 a second
    finally:
        ratelimit._down_until = 0.0


def test_neither_the_secret_nor_the_token_reaches_a_log_line(wecom, caplog, settings):
    import logging

    from appeals.shared.logs import JsonFormatter

    t = now() - 3600
    wecom.busy.append(-1)
    with caplog.at_level(logging.DEBUG), client_for(wecom, sleeps=[]) as client:
        client.list_page("member", start=t - 60, end=t)
        token = client.token()
    assert any("retrying" in r.getMessage() for r in caplog.records)  # the client's own lines are there
    for record in caplog.records:
        assert CORP_SECRET not in record.getMessage() and token not in record.getMessage()
    # and should a URL reach a line anyway, the formatter masks both
    line = JsonFormatter(redact=settings.LOG_REDACT_PATTERNS).format(logging.makeLogRecord(
        {"msg": f"GET {wecom.url}/cgi-bin/gettoken?corpid={CORP_ID}&corpsecret={CORP_SECRET} then ?access_token={token}"}))
    assert CORP_SECRET not in line and token not in line and CORP_ID in line
