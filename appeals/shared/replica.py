"""Reads that may leave the primary: a database router and the marker for reads that tolerate lag.

With DATABASE_REPLICA_URL set (settings: DATABASES["replica"], DATABASE_ROUTERS), a read goes to
the streaming replica only inside `replica_reads()` (or a view decorated `@tolerates_lag`): the
code says which reads may be a little behind (reports, dashboards, exports, search). Everything
else reads the primary, so every read that must see its own write (the page after a submit, a
service's own reads, anything inside a transaction) stays there without anyone thinking about it.
Writes always go to the primary.

The replica is used only while it answers and is less than DATABASE_REPLICA_MAX_LAG seconds
behind; that verdict is kept for DATABASE_REPLICA_CHECK_SECONDS. A replica that is down, or fails
in the middle of a view, sends the view's reads back to the primary (the view is run once more
there: lag-tolerant views only read).
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"
_lag_ok: ContextVar[bool] = ContextVar("appeals_replica_reads", default=False)
_verdict = {"ok": False, "until": 0.0, "lag": None}
_lock = threading.Lock()

LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0.0) END
"""


def configured() -> bool:
    return REPLICA in settings.DATABASES


def _probe() -> tuple[bool, float | None]:
    conn = connections[REPLICA]
    try:
        with conn.cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except Exception as exc:
        log.warning("read replica unavailable, reading the primary: %s", exc)
        conn.close()
        return False, None
    lag = float(lag)
    if in_recovery and lag > settings.DATABASE_REPLICA_MAX_LAG:
        log.warning("read replica %.1f s behind (limit %s s), reading the primary", lag, settings.DATABASE_REPLICA_MAX_LAG)
        return False, lag
    return True, lag


def replica_usable(*, fresh: bool = False) -> bool:
    """Is the replica up and close enough behind? Probed at most every DATABASE_REPLICA_CHECK_SECONDS."""
    if not configured():
        return False
    now = time.monotonic()
    with _lock:
        if not fresh and now < _verdict["until"]:
            return _verdict["ok"]
    ok, lag = _probe()
    with _lock:
        _verdict.update(ok=ok, lag=lag, until=time.monotonic() + settings.DATABASE_REPLICA_CHECK_SECONDS)
    return ok


def forget_verdict() -> None:
    with _lock:
        _verdict.update(ok=False, until=0.0, lag=None)


def _mark_down() -> None:
    with _lock:
        _verdict.update(ok=False, lag=None, until=time.monotonic() + settings.DATABASE_REPLICA_CHECK_SECONDS)


@contextmanager
def replica_reads():
    """Reads inside may come from the replica (seconds behind at most); writes still go to the primary."""
    token = _lag_ok.set(True)
    try:
        yield
    finally:
        _lag_ok.reset(token)


@contextmanager
def primary_reads():
    """Inside a lag-tolerant block, a read that must be current."""
    token = _lag_ok.set(False)
    try:
        yield
    finally:
        _lag_ok.reset(token)


def tolerates_lag(view):
    """A view (or function) whose reads may come from the replica. If the replica fails while it
    runs, it runs again on the primary. Only for code that reads: it may run twice."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not configured():
            return view(*args, **kwargs)
        try:
            with replica_reads():
                return view(*args, **kwargs)
        except OperationalError:
            if replica_usable(fresh=True):
                raise  # the replica is fine: the error was the primary's
            _mark_down()
            connections[REPLICA].close()
            return view(*args, **kwargs)

    return wrapped


def reading_from_replica() -> bool:
    return _lag_ok.get() and configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block and replica_usable()


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints):
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return instance._state.db  # related objects come from where their parent came from
        return REPLICA if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
