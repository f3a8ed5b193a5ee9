"""The API's rate limits on the real Redis (appeals.shared.throttling): DRF's sliding window,
counted atomically in one round trip."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework import throttling as drf_throttling
from rest_framework.test import APIClient

from appeals.shared.throttling import UserRateThrottle

pytestmark = pytest.mark.skipif(not hasattr(cache, "eval_script"), reason="needs the Redis cache")


def _request(pk: int):
    return SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=pk), META={"REMOTE_ADDR": "127.0.0.1"})


def _throttle(cls, rate: str):
    klass = type("Limited", (cls,), {"rate": rate})
    return klass()


def _at_once(cls, rate: str, n: int, pk: int) -> list[bool]:
    """n requests of one user at the same moment, each on its own thread (as gunicorn workers)."""
    start = threading.Barrier(n)
    results = [None] * n

    def hit(i: int) -> None:
        throttle = _throttle(cls, rate)
        start.wait()
        results[i] = throttle.allow_request(_request(pk), None)

    threads = [threading.Thread(target=hit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_requests_at_the_same_moment_never_pass_the_limit_together():
    """The window is trimmed, counted and appended in one step: of 40 simultaneous requests
    against a limit of 5, exactly 5 pass, round after round."""
    for round_ in range(5):
        assert sum(_at_once(UserRateThrottle, "5/min", 40, pk=1000 + round_)) == 5


def test_drfs_own_history_is_what_let_them_through():
    """The same load on DRF's get-then-set history: the check this module exists for (shows
    the test above can fail). Not every round races, so it is tried until one does."""
    passed = [sum(_at_once(drf_throttling.UserRateThrottle, "5/min", 40, pk=2000 + r)) for r in range(20)]
    assert max(passed) > 5, passed


def test_the_window_slides_and_refusals_are_not_counted():
    throttle = _throttle(UserRateThrottle, "2/s")
    user = _request(3000)
    assert [throttle.allow_request(user, None) for _ in range(4)] == [True, True, False, False]
    wait = throttle.wait()
    assert 0 < wait <= 1.0
    time.sleep(wait + 0.05)
    # The refused two did not count: after the oldest left the window, one more passes.
    assert throttle.allow_request(user, None) is True


def test_retry_after_is_drfs_figure():
    throttle = _throttle(UserRateThrottle, "3/min")
    user = _request(4000)
    first = time.time()
    for _ in range(3):
        assert throttle.allow_request(user, None)
    assert throttle.allow_request(user, None) is False
    # DRF: (duration - (now - oldest)) / (limit - count + 1), here (60 - elapsed) / 1.
    assert 60 - (time.time() - first) - 0.5 <= throttle.wait() <= 60


def test_users_count_apart_and_the_api_answers_429_with_retry_after(enterprise_admin, other_admin, settings, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "60/min"})
    one, two = APIClient(), APIClient()
    one.force_authenticate(enterprise_admin)
    two.force_authenticate(other_admin)
    assert [one.get("/api/v1/appeals/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert two.get("/api/v1/appeals/").status_code == 200
    refused = one.get("/api/v1/appeals/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    # Counted in the Redis window, not in DRF's pickled history.
    redis = cache._cache.get_client(write=True)
    assert redis.zcard(cache.make_and_validate_key(f"throttle_user_{enterprise_admin.pk}:window")) == 3
    assert not redis.exists(cache.make_and_validate_key(f"throttle_user_{enterprise_admin.pk}"))
