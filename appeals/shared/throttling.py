"""The API's rate limits (DRF's anon, user and scoped throttles), counted atomically, in one
Redis round trip.

DRF's SimpleRateThrottle reads a client's history (a pickled list of timestamps) from the
cache and writes it back: two round trips per request, a list of up to `num_requests` floats
pickled each way, and two requests of one client at the same moment both read the same
history, so at the limit both can pass. Here the same sliding window (the requests of the last
`duration` seconds; a refused request is not counted; Retry-After computed as DRF does) is a
sorted set that one Lua script trims, counts and appends to.

When the cache is not Redis (the embedded default's local memory) or Redis is unreachable
(appeals.shared.cache.RedisFailOpenCache in its fallback period), DRF's own get/set path runs
on the cache, as before: throttles keep counting, per process.
"""

import secrets

from rest_framework import throttling

# KEYS[1]: the client's window. ARGV: now, duration (s), limit, a member unique to this request.
# Returns {allowed (0/1), requests in the window afterwards, the oldest one's time or false}.
# Numbers go back as strings: Redis turns a Lua number into an integer.
WINDOW_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, count, oldest[2] or false}
"""


class AtomicRateThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle with the window kept in Redis by WINDOW_LUA when the cache can run it
    (`eval_script`), DRF's history otherwise. DRF's throttles list it after themselves, so
    their own allow_request (the scoped one's rate lookup) runs first."""

    _window = None  # (requests in the window, the oldest one's time) when Redis counted

    def allow_request(self, request, view):
        self._window = None
        if self.rate is None:
            return True
        run = getattr(self.cache, "eval_script", None)
        if run is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        member = f"{self.now!r}:{secrets.token_hex(4)}"
        result = run(WINDOW_LUA, [f"{self.key}:window"], [repr(self.now), self.duration, self.num_requests, member])
        if result is None:  # Redis unreachable: DRF's path, on the cache's local-memory fallback
            return super().allow_request(request, view)
        allowed, count, oldest = result
        self._window = (int(count), float(oldest) if oldest else None)
        return bool(int(allowed))

    def wait(self):
        if self._window is None:
            return super().wait()
        count, oldest = self._window
        # DRF's formula (SimpleRateThrottle.wait) on the window's count and oldest request.
        remaining = self.duration - (self.now - oldest) if oldest is not None else self.duration
        available = self.num_requests - count + 1
        if available <= 0:
            return None
        return remaining / float(available)


class AnonRateThrottle(throttling.AnonRateThrottle, AtomicRateThrottle):
    pass


class UserRateThrottle(throttling.UserRateThrottle, AtomicRateThrottle):
    pass


class ScopedRateThrottle(throttling.ScopedRateThrottle, AtomicRateThrottle):
    pass
