"""Liveness (/healthz) and readiness (/readyz).

/healthz answers 200 as long as the process serves requests: it touches nothing else, so a
database outage never makes an orchestrator restart healthy web processes.

/readyz checks what a request needs: every configured database, the cache, the Celery broker,
the evidence storage, and that some worker wrote a heartbeat within
OPS["WORKER_HEARTBEAT_MAX_AGE"] seconds (appeals/ops/worker.py). The checks run concurrently,
each in its own thread with OPS["CHECK_TIMEOUT_SECONDS"]; one that has not answered by then
counts as failed, so a dead or black-holed Redis or database never hangs the probe. Any failure:
503 and a JSON body naming the failed components.

Why not django-health-check (4.x): its view answers 500, not 503, keys its JSON by each check's
repr, has no worker-heartbeat check (its Celery check is a broadcast ping that waits out its whole
timeout on every probe), and the contract here is five small functions.
"""

import os
import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from appeals.ops import store

OPTIONAL = {"database:replica"}


class CheckFailed(Exception):
    """A component answered, but not well enough."""


def check_database(alias: str = "default") -> str:
    conn = connections[alias]
    try:
        conn.ensure_connection()
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise CheckFailed("SELECT 1 did not return 1")
    finally:
        conn.close()  # this thread's own connection; the probe thread ends here
    return "ok"


def check_cache() -> str:
    key = f"ops:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise CheckFailed("a value written to the cache did not read back")
    finally:
        cache.delete(key)
    return "ok"


def check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "skipped: tasks run in-process (CELERY_TASK_ALWAYS_EAGER)"
    timeout = float(settings.OPS["CHECK_TIMEOUT_SECONDS"])
    # The broker the Celery app publishes to (CELERY_BROKER_URL), with this probe's own short timeouts.
    options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "socket_timeout": timeout, "socket_connect_timeout": timeout}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    return "ok"


def check_storage(alias: str = "evidence") -> str:
    storage = storages[alias]
    bucket = getattr(storage, "bucket_name", None)
    if bucket:  # S3 (django-storages): the bucket exists and these credentials may read it
        storage.connection.meta.client.head_bucket(Bucket=bucket)
        return "ok"
    location = getattr(storage, "location", None)
    if location:
        os.makedirs(location, exist_ok=True)  # what the first save would do anyway
        if not os.access(location, os.W_OK | os.X_OK):
            raise CheckFailed("the storage directory is not writable")
        return "ok"
    storage.exists("ops-readyz-probe")
    return "ok"


def check_worker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "skipped: tasks run in-process (CELERY_TASK_ALWAYS_EAGER)"
    max_age = float(settings.OPS["WORKER_HEARTBEAT_MAX_AGE"])
    beats = store.heartbeats()
    if not beats:
        raise CheckFailed("no worker heartbeat seen")
    age = time.time() - max(beats.values())
    if age > max_age:
        raise CheckFailed(f"newest worker heartbeat is {age:.0f} s old (limit {max_age:.0f} s)")
    return "ok"


def readiness_checks() -> dict[str, Callable[[], str]]:
    checks: dict[str, Callable[[], str]] = {}
    for alias in settings.DATABASES:
        checks["database" if alias == "default" else f"database:{alias}"] = lambda alias=alias: check_database(alias)
    checks["cache"] = check_cache
    checks["broker"] = check_broker
    checks["storage"] = check_storage
    checks["worker"] = check_worker
    return checks


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def run_checks(checks: dict[str, Callable[[], str]], timeout: float) -> dict[str, dict]:
    """Run every check at once, each in a daemon thread; what has not answered by the deadline failed."""
    results: dict[str, dict] = {}
    threads = {}

    def run(name, fn):
        started = time.perf_counter()
        try:
            detail = fn()
            results[name] = {"ok": True, "detail": detail}
        except BaseException as exc:  # noqa: BLE001  (any failure is this component's failure)
            results[name] = {"ok": False, "error": _describe(exc)}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)

    for name, fn in checks.items():
        threads[name] = threading.Thread(target=run, args=(name, fn), name=f"readyz-{name}", daemon=True)
        threads[name].start()
    deadline = time.monotonic() + timeout
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    out = {}
    for name in checks:
        out[name] = dict(results.get(name) or {"ok": False, "error": f"no answer within {timeout:g} s"})
    return out


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    results = run_checks(readiness_checks(), float(settings.OPS["CHECK_TIMEOUT_SECONDS"]))
    # A replica that is down costs nothing but load on the primary (reads fall back there): reported, not failed.
    failed = [name for name, result in results.items() if not result["ok"] and name not in OPTIONAL]
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": results}
    return JsonResponse(body, status=503 if failed else 200)
