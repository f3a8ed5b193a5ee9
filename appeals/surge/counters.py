"""Where the per-minute counts live: Redis counters rebuilt from the database, or the database itself."""

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import Trunc

from appeals.core.models import Appeal
from appeals.surge.policy import SurgePolicy, surge_policy
from appeals.surge.slices import ALL_SLICE, MINUTES_PER_DAY, Slice, minute_of, minute_start, slice_q, slices_of

logger = logging.getLogger(__name__)


# --- where the counts live -------------------------------------------------------------------------


class DatabaseCounts:
    """Counts answered by bounded queries on Appeal.submitted_at (the embedded default,
    the source of truth, and the fallback when Redis is unreachable)."""

    name = "database"

    def record(self, slices: Sequence[Slice], at: datetime, policy: SurgePolicy) -> None:
        """Nothing to do: the submitted appeal row is the count."""

    def window_sums(self, slices: Sequence[Slice], ends: Sequence[int], window: int) -> dict[Slice, list[int]]:
        slices, ends = list(slices), list(ends)
        if not slices:
            return {}
        ranges = [Q(submitted_at__gte=minute_start(e - window + 1), submitted_at__lt=minute_start(e + 1)) for e in ends]
        aggregates = {
            f"s{i}_{j}": Count("id", filter=slice_q(s) & r) for i, s in enumerate(slices) for j, r in enumerate(ranges)
        }
        any_range = Q()
        for r in ranges:
            any_range |= r
        row = Appeal.objects.filter(any_range).aggregate(**aggregates)
        return {s: [row[f"s{i}_{j}"] for j in range(len(ends))] for i, s in enumerate(slices)}

    def minute_buckets(self, slices: Sequence[Slice], firsts: Sequence[int], length: int) -> dict[Slice, list[list[int]]]:
        """Per slice, for each first minute f: the one-minute counts of minutes f .. f + length - 1.
        One grouped query, bounded by the ranges asked about (index on submitted_at)."""
        slices, firsts = list(slices), list(firsts)
        if not slices or not firsts:
            return {}
        any_range, any_slice = Q(), Q()
        for f in firsts:
            any_range |= Q(submitted_at__gte=minute_start(f), submitted_at__lt=minute_start(f + length))
        if ALL_SLICE not in slices:
            for s in slices:
                any_slice |= slice_q(s)
        rows = (
            Appeal.objects.filter(any_range, any_slice)
            .annotate(minute=Trunc("submitted_at", "minute", tzinfo=UTC))
            .values("minute", "incident__account__platform", "incident__kind", "enterprise_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        per_minute: dict[tuple[Slice, int], int] = defaultdict(int)
        wanted = set(slices)
        for row in rows:
            minute = minute_of(row["minute"])
            for s in slices_of(platform=row["incident__account__platform"], kind=row["incident__kind"], enterprise_id=row["enterprise_id"]):
                if s in wanted:
                    per_minute[(s, minute)] += row["n"]
        return {s: [[per_minute.get((s, f + i), 0) for i in range(length)] for f in firsts] for s in slices}

    def active_slices(self, first_minute: int, last_minute: int) -> set[Slice]:
        rows = (
            Appeal.objects.filter(submitted_at__gte=minute_start(first_minute), submitted_at__lt=minute_start(last_minute + 1))
            .values_list("incident__account__platform", "incident__kind", "enterprise_id")
            .distinct()
        )
        found: set[Slice] = set()
        for platform, kind, enterprise_id in rows:
            found.update(slices_of(platform=platform, kind=kind, enterprise_id=enterprise_id))
        return found


# Lua: set each key to max(current, rebuilt) so a rebuild racing live INCRs never lowers a count.
_MERGE_MAX = """
for i, key in ipairs(KEYS) do
  local want = tonumber(ARGV[2 * i - 1])
  local have = tonumber(redis.call('GET', key) or '0')
  if want > have then redis.call('SET', key, want) end
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i]))
end
return #KEYS
"""

# Lua: KEYS = the marker, then buckets in runs of ARGV[1]; returns {marker exists, sum of each run}.
_WINDOW_SUMS = """
local size = tonumber(ARGV[1])
local out = {redis.call('EXISTS', KEYS[1])}
local sum, n = 0, 0
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then sum = sum + tonumber(v) end
  n = n + 1
  if n == size then out[#out + 1] = sum; sum = 0; n = 0 end
end
return out
"""

_clients: dict = {}


def redis_client(url: str):
    import redis

    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
    return _clients[url]


class RedisCounts:
    """Per-minute counters in Redis: `<prefix>:c:<dimension>:<value>:<minute>` plus, per
    minute, the set of slices that had submissions (`<prefix>:a:<minute>`), so the periodic
    scan reads only the recent slices, however many appeals the database holds."""

    name = "redis"

    def __init__(self, url: str | None = None, *, prefix: str | None = None):
        self.redis = redis_client(url or settings.REDIS_URL)
        self.prefix = prefix or settings.SURGE["REDIS_PREFIX"]
        self.marker = f"{self.prefix}:built"

    def key(self, slice_: Slice, minute: int) -> str:
        return f"{self.prefix}:c:{slice_[0]}:{slice_[1]}:{minute}"

    def active_key(self, minute: int) -> str:
        return f"{self.prefix}:a:{minute}"

    def record(self, slices: Sequence[Slice], at: datetime, policy: SurgePolicy) -> None:
        minute = minute_of(at)
        ttl = policy.counter_ttl_seconds
        pipe = self.redis.pipeline(transaction=True)
        for s in slices:
            pipe.incr(self.key(s, minute))
            pipe.expire(self.key(s, minute), ttl)
        pipe.sadd(self.active_key(minute), *(f"{d}|{v}" for d, v in slices))
        pipe.expire(self.active_key(minute), ttl)
        pipe.execute()

    def _sums(self, keys: list[str], window: int) -> tuple[list[int], bool]:
        """Sum consecutive runs of `window` keys on the server: one round trip returns a few
        integers instead of every bucket."""
        script = self.redis.register_script(_WINDOW_SUMS)
        sums: list[int] = []
        built = True
        per_call = max(1, 20000 // window) * window
        for start in range(0, len(keys), per_call):
            got = script(keys=[self.marker, *keys[start : start + per_call]], args=[window])
            built = built and bool(got[0])
            sums.extend(int(v) for v in got[1:])
        return sums, built

    def window_sums(self, slices: Sequence[Slice], ends: Sequence[int], window: int) -> dict[Slice, list[int]]:
        slices, ends = list(slices), list(ends)
        if not slices:
            return {}
        keys = [self.key(s, m) for s in slices for e in ends for m in range(e - window + 1, e + 1)]
        sums, built = self._sums(keys, window)
        if not built:
            # Redis lost the counters (restart without persistence, flush): rebuild them
            # from the database and ask again.
            self.ensure_built(now=minute_start(max(ends)) + timedelta(seconds=59))
            sums, _built = self._sums(keys, window)
        return {s: sums[i * len(ends) : (i + 1) * len(ends)] for i, s in enumerate(slices)}

    def minute_buckets(self, slices: Sequence[Slice], firsts: Sequence[int], length: int) -> dict[Slice, list[list[int]]]:
        """Per slice, for each first minute f: the one-minute counts of minutes f .. f + length - 1
        (windows of one minute: the server returns each bucket, and rebuilds when it must)."""
        slices, firsts = list(slices), list(firsts)
        if not slices or not firsts:
            return {}
        ends = [f + i for f in firsts for i in range(length)]
        sums = self.window_sums(slices, ends, 1)
        return {s: [sums[s][j * length : (j + 1) * length] for j in range(len(firsts))] for s in slices}

    def active_slices(self, first_minute: int, last_minute: int) -> set[Slice]:
        if not self.redis.exists(self.marker):
            self.ensure_built(now=minute_start(last_minute) + timedelta(seconds=59))
        members = self.redis.sunion([self.active_key(m) for m in range(first_minute, last_minute + 1)])
        found = set()
        for member in members:
            dimension, _sep, value = member.decode().partition("|")
            found.add((dimension, value))
        return found

    def ensure_built(self, *, now: datetime, wait_seconds: float = 10.0) -> bool:
        """Rebuild once, under a Redis lock; other callers wait for the marker."""
        lock = f"{self.prefix}:rebuild-lock"
        if self.redis.set(lock, "1", nx=True, ex=120):
            try:
                self.rebuild(now=now)
            finally:
                self.redis.delete(lock)
            return True
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and not self.redis.exists(self.marker):
            time.sleep(0.05)
        return False

    def rebuild(self, *, now: datetime, policy: SurgePolicy | None = None) -> int:
        """Recount every bucket the rule can ask about from Appeal.submitted_at. The query is
        bounded by the history horizon (index on submitted_at), not by the table size."""
        policy = policy or surge_policy()
        last = minute_of(now)
        first = last - policy.history_days * MINUTES_PER_DAY - (policy.quiet_windows + 1) * policy.window_minutes
        rows = (
            Appeal.objects.filter(submitted_at__gte=minute_start(first), submitted_at__lt=minute_start(last + 1))
            .annotate(minute=Trunc("submitted_at", "minute", tzinfo=UTC))
            .values("minute", "incident__account__platform", "incident__kind", "enterprise_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        buckets: dict[tuple[Slice, int], int] = defaultdict(int)
        active: dict[int, set[str]] = defaultdict(set)
        recent = last - (policy.quiet_windows + 1) * policy.window_minutes
        for row in rows.iterator(chunk_size=5000):
            minute = minute_of(row["minute"])
            for s in slices_of(platform=row["incident__account__platform"], kind=row["incident__kind"], enterprise_id=row["enterprise_id"]):
                buckets[(s, minute)] += row["n"]
                if minute >= recent:
                    active[minute].add(f"{s[0]}|{s[1]}")
        merge = self.redis.register_script(_MERGE_MAX)
        now_ts = now.timestamp()
        items = list(buckets.items())
        for start in range(0, len(items), 2000):
            keys, args = [], []
            for (s, minute), n in items[start : start + 2000]:
                keys.append(self.key(s, minute))
                # Each key keeps the expiry it would have had if counted live.
                args += [n, max(60, int(minute * 60 + policy.counter_ttl_seconds - now_ts))]
            merge(keys=keys, args=args)
        pipe = self.redis.pipeline(transaction=False)
        for minute, members in active.items():
            pipe.sadd(self.active_key(minute), *members)
            pipe.expire(self.active_key(minute), policy.counter_ttl_seconds)
        pipe.set(self.marker, now.isoformat())
        pipe.execute()
        logger.info("surge counters rebuilt from the database: %d buckets since %s", len(buckets), minute_start(first))
        return len(buckets)

    def forget(self) -> None:
        """Drop the marker so the next question rebuilds (after the managers change the horizon)."""
        self.redis.delete(self.marker)


_MISSED_WRITES: set[str] = set()  # Redis URLs that missed a submission: rebuild when back


class FailOpenRedisCounts(RedisCounts):
    """Redis counters that answer from the database while Redis is unreachable.

    A submission counted while Redis was down is not in its buckets; the next call that
    reaches Redis again drops the marker, so the following question rebuilds the counters
    from the database (merging with max, so live counts are never lowered)."""

    def __init__(self, url: str | None = None, *, prefix: str | None = None):
        self.url = url or settings.REDIS_URL
        super().__init__(self.url, prefix=prefix)

    def _fallback(self, exc: Exception, what: str):
        _MISSED_WRITES.add(self.url)
        logger.warning("surge counters: Redis unreachable during %s (%s: %s); counting from the database", what, type(exc).__name__, exc)
        return DatabaseCounts()

    def _recovered(self) -> None:
        if self.url in _MISSED_WRITES:
            super().forget()
            _MISSED_WRITES.discard(self.url)

    def record(self, slices, at, policy) -> None:
        try:
            super().record(slices, at, policy)
        except _redis_errors() as exc:
            self._fallback(exc, "record").record(slices, at, policy)
            return
        self._recovered()

    def window_sums(self, slices, ends, window):
        try:
            self._recovered()
            return super().window_sums(slices, ends, window)
        except _redis_errors() as exc:
            return self._fallback(exc, "window_sums").window_sums(slices, ends, window)

    def minute_buckets(self, slices, firsts, length):
        try:
            self._recovered()
            return super().minute_buckets(slices, firsts, length)
        except _redis_errors() as exc:
            return self._fallback(exc, "minute_buckets").minute_buckets(slices, firsts, length)

    def active_slices(self, first_minute, last_minute):
        try:
            self._recovered()
            return super().active_slices(first_minute, last_minute)
        except _redis_errors() as exc:
            return self._fallback(exc, "active_slices").active_slices(first_minute, last_minute)

    def forget(self) -> None:
        try:
            super().forget()
        except _redis_errors() as exc:
            self._fallback(exc, "forget")  # the marker goes at the next call that reaches Redis


def _redis_errors():
    import redis

    return (redis.exceptions.RedisError, OSError)


def surge_counts():
    """Redis counters when REDIS_URL is set (the database while Redis is unreachable), else the
    database (embedded default)."""
    return FailOpenRedisCounts() if settings.REDIS_URL else DatabaseCounts()
