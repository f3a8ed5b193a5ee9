"""A Redis cache that degrades instead of failing the request when Redis is unreachable.

Everything the application keeps in the cache is a counter or a hint (throttle histories,
sign-in failure counts, the "any surge alert open?" flag, sweep hold keys); none of it is the
truth, which lives in the database. So when Redis refuses, times out or drops the connection,
each call is answered by a per-process local-memory cache instead and the outage is logged
(once per `DOWN_SECONDS`, not per call). For that long Redis is not asked again, so a dead
Redis costs one failed connect per process per period, not one per cache call; then the next
call tries Redis again and, if it answers, everything is back to shared counting.

Throttles and counters therefore keep counting during an outage, per process: a safe
fallback, not a free pass and not a 500.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

DOWN_SECONDS = 5.0


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    # ConnectionError and TimeoutError (and the cluster/readonly variants) are RedisError;
    # OSError covers a socket failing below redis-py.
    return (redis.exceptions.RedisError, OSError)


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis (and its table of ~170 response callbacks) for
    every cache call, ~0.1 ms each, twice per throttled API request. One per connection pool,
    kept, does the same work: redis.Redis is thread-safe, taking a connection from the pool for
    each command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisFailOpenCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that falls back to local memory."""

    def __init__(self, server, params):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # A dead Redis must cost milliseconds: short socket timeouts, one quick retry at most
        # (redis-py's default backs off exponentially for seconds).
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "retry": Retry(NoBackoff(), 1), **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self._fallback = LocMemCache(f"fail-open-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10000}})
        self._fallback.key_prefix = self.key_prefix
        self._errors = _redis_errors()
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._scripts = {}

    def _call(self, name, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            return getattr(super(), name)(*args, **kwargs)
        except self._errors as exc:
            self._mark_down(exc)
            return getattr(self._fallback, name)(*args, **kwargs)

    def _mark_down(self, exc: BaseException) -> None:
        with self._lock:
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + DOWN_SECONDS
        if first:
            logger.warning("cache: Redis unreachable (%s: %s); using this process's local memory for %.0f s",
                           type(exc).__name__, exc, DOWN_SECONDS)

    def eval_script(self, lua: str, keys: list[str], args: list):
        """Runs a Lua script on this cache's Redis in one round trip, its keys named as the
        cache names its own (prefix, version); redis-py's Script sends EVALSHA and loads the
        script once per server. Returns None, and marks Redis down like any other call, when
        Redis is unreachable: the caller then does its work on the local-memory fallback."""
        if time.monotonic() < self._down_until:
            return None
        try:
            client = self._cache.get_client(write=True)
            script = self._scripts.get(lua)
            if script is None:
                script = self._scripts.setdefault(lua, client.register_script(lua))
            return script(keys=[self.make_and_validate_key(key) for key in keys], args=args, client=client)
        except self._errors as exc:
            self._mark_down(exc)
            return None

    def add(self, key, value, timeout=None, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=None, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=None, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        # A delete that only reached local memory leaves Redis's copy to its expiry (hints
        # with short timeouts, never the truth).
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=None, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")
