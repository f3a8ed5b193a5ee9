"""What every test starts from (tests/conftest.py: clean_shared_state): no Redis leftovers but the broker's."""

import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from appeals.surge import policy
from appeals.surge.services import EMERGENCY_CACHE_KEY
from tests.conftest import _reset_redis


def test_reset_drops_cache_and_surge_counters_and_keeps_the_brokers_keys():
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.SURGE["REDIS_PREFIX"]
    cache.set(EMERGENCY_CACHE_KEY, True, 60)
    client.set(f"{prefix}:count:all::202611181030", 31)
    client.sadd(f"{prefix}:active:202611181030", "all|")
    client.sadd("_kombu.binding.isolation-test", "isolation-test\x06\x16\x06\x16isolation-test")
    client.rpush("isolation-test", "a task a worker has not taken yet")
    try:
        _reset_redis()
        assert cache.get(EMERGENCY_CACHE_KEY) is None
        assert not list(client.scan_iter(match=f"{prefix}:*"))
        assert client.exists("_kombu.binding.isolation-test") and client.llen("isolation-test") == 1
    finally:
        client.delete("_kombu.binding.isolation-test", "isolation-test")
        client.close()


def test_each_test_starts_with_an_empty_redis_but_for_the_broker():
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        leftovers = [k for k in client.scan_iter() if client.type(k) != b"list" and b"_kombu." not in k and b"unacked" not in k]
    finally:
        client.close()
    assert leftovers == []


def test_each_test_starts_in_the_default_language_and_without_a_policy_memo():
    assert translation.get_language() == settings.LANGUAGE_CODE
    assert policy._policy_memo == {}
