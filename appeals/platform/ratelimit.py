"""The 600-calls-a-minute budget of WeCom's API, shared by every process that calls it.

A token bucket kept in Redis (one Lua script: refill, take, or say how long to wait), keyed by
corp id, so two workers pulling for the same enterprise together stay under the limit. The
refill rate is (calls - burst) / period, so even a full bucket at the start of a period cannot
push a period past `calls`. If Redis is unreachable the bucket falls back to one kept in this
process (fail open, as appeals/shared/cache.py does for the cache): a safe degradation, and
WeCom's own 45009 answer is retried with backoff anyway.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

DOWN_SECONDS = 5.0

# KEYS[1] bucket; ARGV: rate per second, capacity. Returns the seconds to wait (0: a token was taken).
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or capacity
local ts = tonumber(data[2]) or t
tokens = math.min(capacity, tokens + math.max(0, t - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class _LocalBucket:
    def __init__(self, rate: float, capacity: float):
        self.rate, self.capacity = rate, capacity
        self.tokens, self.ts = capacity, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.ts) * self.rate)
            self.ts = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


_local: dict[str, _LocalBucket] = {}
_local_lock = threading.Lock()
_clients: dict[str, object] = {}
_down_until = 0.0


def _redis():
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)
    return client


class RateLimiter:
    """`acquire()` blocks until a call may be made under the shared budget of `key`."""

    def __init__(self, key: str, *, calls: int | None = None, period: float | None = None, burst: int | None = None,
                 sleep=time.sleep):
        conf = settings.WECOM
        calls = calls or conf["RATE_LIMIT_CALLS"]
        period = period or conf["RATE_LIMIT_PERIOD"]
        burst = min(burst if burst is not None else conf["RATE_LIMIT_BURST"], max(1, calls // 2))
        self.capacity = max(1, burst)
        self.rate = (calls - self.capacity) / period if calls > self.capacity else calls / period
        self.key = f"{settings.CACHE_KEY_PREFIX}:wecom-rate:{key}"
        self.sleep = sleep
        self.waited = 0.0

    def _take(self) -> float:
        global _down_until
        client = _redis()
        if client is not None and time.monotonic() >= _down_until:
            import redis

            try:
                return float(client.eval(_TAKE, 1, self.key, repr(self.rate), repr(self.capacity)))
            except (redis.exceptions.RedisError, OSError) as exc:
                _down_until = time.monotonic() + DOWN_SECONDS
                logger.warning("wecom rate limit: Redis unreachable (%s); this process counts alone for %.0f s",
                               type(exc).__name__, DOWN_SECONDS)
        with _local_lock:
            bucket = _local.get(self.key)
            if bucket is None or (bucket.rate, bucket.capacity) != (self.rate, self.capacity):
                bucket = _local[self.key] = _LocalBucket(self.rate, self.capacity)
        return bucket.take()

    def acquire(self) -> None:
        while True:
            wait = self._take()
            if wait <= 0:
                return
            self.waited += wait
            self.sleep(wait)
