"""Where the worker heartbeat and the task-failure counts live: Redis (shared by every web and
worker process), reached with short socket timeouts so a dead Redis never hangs a probe or a
scrape. Without REDIS_URL (the embedded mode: tasks run in-process) an in-process dict stands in.
"""

import json
import threading
import time
from collections import Counter
from functools import lru_cache

import redis
from django.conf import settings

HEARTBEAT_KEY = "appeals:ops:worker_heartbeat"  # hash: worker hostname -> unix time of its last beat
FAILURES_KEY = "appeals:ops:task_failures"  # hash: task name -> failures since the counter began
# A worker not heard from for this long is dropped from the heartbeat hash when another writes.
FORGET_WORKER_AFTER = 24 * 3600
SOCKET_TIMEOUT = 0.5

_local_failures: Counter = Counter()
_local_heartbeats: dict[str, float] = {}
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT, socket_timeout=SOCKET_TIMEOUT,
                                retry_on_timeout=False, health_check_interval=0)


def client() -> redis.Redis | None:
    return _client_for(settings.REDIS_URL) if settings.REDIS_URL else None


def beat(hostname: str, at: float | None = None) -> None:
    at = time.time() if at is None else at
    r = client()
    if r is None:
        with _lock:
            _local_heartbeats[hostname] = at
        return
    stale = [h for h, t in (r.hgetall(HEARTBEAT_KEY) or {}).items() if at - float(t) > FORGET_WORKER_AFTER]
    with r.pipeline(transaction=False) as pipe:
        pipe.hset(HEARTBEAT_KEY, hostname, repr(at))
        if stale:
            pipe.hdel(HEARTBEAT_KEY, *stale)
        pipe.execute()


def forget(hostname: str) -> None:
    r = client()
    if r is None:
        with _lock:
            _local_heartbeats.pop(hostname, None)
        return
    r.hdel(HEARTBEAT_KEY, hostname)


def heartbeats() -> dict[str, float]:
    """hostname -> unix time of that worker's last heartbeat (raises redis errors)."""
    r = client()
    if r is None:
        with _lock:
            return dict(_local_heartbeats)
    return {h.decode(): float(t) for h, t in (r.hgetall(HEARTBEAT_KEY) or {}).items()}


def count_failure(task_name: str) -> None:
    r = client()
    if r is None:
        with _lock:
            _local_failures[task_name] += 1
        return
    r.hincrby(FAILURES_KEY, task_name, 1)


def failures() -> dict[str, int]:
    r = client()
    if r is None:
        with _lock:
            return dict(_local_failures)
    return {k.decode(): int(v) for k, v in (r.hgetall(FAILURES_KEY) or {}).items()}


# --- the appeals-by-state snapshot (refreshed by beat, read by /metrics) ---------------------

STATE_COUNTS_KEY = "appeals:ops:appeal_state_counts"  # JSON {"at": unix time, "counts": {state: n}}
_local_snapshot: dict = {}


def save_state_counts(snapshot: dict) -> None:
    r = client()
    if r is None:
        with _lock:
            _local_snapshot.clear()
            _local_snapshot.update(snapshot)
        return
    r.set(STATE_COUNTS_KEY, json.dumps(snapshot))


def state_counts() -> dict | None:
    r = client()
    if r is None:
        with _lock:
            return dict(_local_snapshot) or None
    raw = r.get(STATE_COUNTS_KEY)
    return json.loads(raw) if raw else None
