"""Small database helpers: the entry-point transaction, and locks that differ by vendor.

Transactions. A service that a view, an API view, a task, an admin action or a management
command calls is an *entry point*: `@entry_point` runs it in one durable transaction
(`transaction.atomic(durable=True)`), so the work it registers with `on_commit` (task
publication, outbox delivery, the surge check) runs only once everything it did is
committed, and calling it inside another transaction is a bug that fails loudly
("A durable atomic block cannot be nested") instead of silently moving the commit.

- A service that composes another entry point calls `other.nested(...)`: the same work in a
  savepoint of the caller's transaction (e.g. `appeal_file` calls `incident_create.nested`
  and `appeal_create.nested`; the Django admin, which wraps `save_model` in its own
  transaction, calls `sla_policy_update.nested`).
- Building blocks that only ever run inside a caller's transaction (`apply_transition`,
  `appeal_try_accept`, `audit_record`, `message_queue`, workflow listeners) keep plain
  `transaction.atomic` (a savepoint when nested) and are never durable.
- Views never open a transaction around a service (ATOMIC_REQUESTS is off).
"""

import datetime as dt
import functools
import logging
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def entry_point(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in a durable transaction; `func.nested` runs it inside the caller's one."""
    durable = transaction.atomic(durable=True)(func)
    durable.nested = transaction.atomic(func)
    return durable


def advisory_xact_lock(namespace: str, value: str) -> None:
    """Serialise writers on (namespace, value) until the transaction ends (PostgreSQL).

    SQLite takes a database-wide write lock anyway, so there is nothing to do there.
    """
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{namespace}:{value}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [zlib.crc32(namespace.encode()) & 0x7FFFFFFF, key & 0x7FFFFFFF])


# --- lock conflicts: deadlocks and serialization failures are retried, never fatal ----------

# SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure: PostgreSQL rolled the
# transaction back to break a cycle or keep SERIALIZABLE; running it again is the remedy.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def is_lock_conflict(exc: BaseException) -> bool:
    """True if `exc` (a Django DatabaseError, or the driver's error under it) is a deadlock
    or a serialization failure."""
    seen = 0
    while exc is not None and seen < 5:
        if getattr(exc, "sqlstate", None) in CONFLICT_SQLSTATES or getattr(exc, "pgcode", None) in CONFLICT_SQLSTATES:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def retry_on_lock_conflict(func=None, *, attempts: int = 5, base_delay: float = 0.1, max_delay: float = 3.0):
    """Run `func` again (exponential backoff with jitter) when its transaction is chosen as a
    deadlock victim or fails to serialise. Only around code that owns its transaction (an
    entry point, a task's write step): inside a caller's transaction there is nothing to retry,
    so the error goes up at once. The last failure is raised as it is."""
    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return f(*args, **kwargs)
                except DatabaseError as exc:
                    if attempt == attempts or not is_lock_conflict(exc) or connection.in_atomic_block:
                        raise
                    delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                    logger.warning("%s: %s (attempt %s of %s); retrying in %.2fs",
                                   f.__qualname__, exc, attempt, attempts, delay)
                    time.sleep(delay)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(func) if func is not None else decorate


# Compiled statements kept by prepared_values(memo=...): key -> (sql, params), least recently used
# dropped first. Per process; a statement is a few hundred bytes to a few KB of SQL text.
_STATEMENTS: "OrderedDict[tuple, tuple[str, tuple]]" = OrderedDict()
STATEMENTS_KEPT = 512
_statements_lock = threading.Lock()


def _compiled(queryset, memo: tuple | None) -> tuple[str, tuple]:
    """(sql, params) of the queryset (or of the zero-argument callable that builds it), from the
    memo when its key is known. Raises EmptyResultSet for a filter that can match nothing."""
    if memo is not None:
        with _statements_lock:
            found = _STATEMENTS.get(memo)
            if found is not None:
                _STATEMENTS.move_to_end(memo)
                return found
    if callable(queryset):
        queryset = queryset()
    sql, params = queryset.query.sql_with_params()
    params = tuple(params)
    if memo is not None:
        with _statements_lock:
            _STATEMENTS[memo] = (sql, params)
            while len(_STATEMENTS) > STATEMENTS_KEPT:
                _STATEMENTS.popitem(last=False)
    return sql, params


_TIMESTAMPTZ_OID = 1184


@functools.cache
def _native_timestamptz_loader():
    """psycopg's own timestamptz text loader (compiled when psycopg[binary] or [c] is installed):
    aware datetimes in the session's zone."""
    import psycopg
    from psycopg.pq import Format

    return psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)


def prepared_values(queryset, names: tuple[str, ...], *, memo: tuple | None = None, params: tuple | None = None,
                    using: str = "default") -> list[dict]:
    """The rows of `queryset` (a `.values(*names)` slice) as dicts, run on PostgreSQL as a prepared
    statement of the session.

    A hot read whose SQL text repeats (the first page of the appeal list: an 8-table join) costs
    more to plan (~10 ms) than to run (<1 ms). Django's psycopg connections never prepare
    (`prepare_threshold` None, client-side binding); this one query goes out with server-side
    binding and `prepare=True`, and each connection plans it once: the connection starts with
    `plan_cache_mode=force_generic_plan` (config/settings/base.py), which touches prepared
    statements alone, i.e. only these (their plans are the same for every parameter: a tenant
    id, a state). CONN_MAX_AGE keeps the connection, hence the plan, across requests. Set
    DATABASE_PREPARED_READS=False behind a transaction-pooling PgBouncer, which cannot keep a
    session's prepared statements. Elsewhere (SQLite) it is the queryset read as usual. The
    connection's execute wrappers (query metrics) and query log (tests) see the query as usual.

    Compiling the ORM's query costs as much again (~0.5 ms for the list's 8-table join, ~0.3 ms
    for the token lookup), on every request. `memo`, when given, is a key that determines the
    statement completely: every value the queryset is built from (scope, filters, slice). The
    compiled SQL is then kept under it (per process, least recently used dropped), and
    `queryset` may be a zero-argument callable that builds it, called only on a miss. `params`,
    when given, replaces the compiled parameters: the queryset is built with placeholder values
    and the key names the statement's shape only (e.g. the token lookup, by any token key).
    `using` names the database when `queryset` is a callable.
    """
    from django.conf import settings
    from django.db import connections

    conn = connections[using if callable(queryset) else queryset.db]
    if conn.vendor != "postgresql" or not getattr(settings, "DATABASE_PREPARED_READS", True):
        return list(queryset() if callable(queryset) else queryset)
    import psycopg
    from django.core.exceptions import EmptyResultSet

    try:
        sql, compiled_params = _compiled(queryset, memo)
    except EmptyResultSet:  # a filter that can match nothing
        return []
    if params is None:
        params = compiled_params
    elif len(params) != len(compiled_params):
        raise ValueError(f"prepared_values: {len(params)} parameters given for a statement of {len(compiled_params)}")
    conn.ensure_connection()
    if conn.connection.prepare_threshold is None:
        # Django turns psycopg's preparing off (None); Django's own cursors bind client-side and
        # never prepare, so a threshold no query reaches leaves them as they were and lets the
        # explicit prepare=True below through.
        conn.connection.prepare_threshold = 1 << 30

    # Django reads timestamptz through its own loader, a Python subclass of psycopg's that pins
    # the zone: ~10 µs a value, a fifth of the list's request. With Django's zone and the
    # session's both UTC, psycopg's own (compiled) loader gives the same aware datetimes.
    native_timestamps = conn.timezone is dt.UTC and conn.connection.info.parameter_status("TimeZone") == "UTC"

    def execute(sql, params, many, context):
        started = time.monotonic()
        with conn.wrap_database_errors, psycopg.Cursor(conn.connection) as cursor:
            if native_timestamps:
                cursor.adapters.register_loader(_TIMESTAMPTZ_OID, _native_timestamptz_loader())
            cursor.execute(sql, params, prepare=True)
            result = cursor.fetchall()
        if conn.queries_logged:
            try:
                shown = sql % tuple(map(repr, params)) if params else sql
            except (TypeError, ValueError):  # a literal % the parameters do not account for
                shown = f"{sql} -- params {params!r}"
            conn.queries_log.append({"sql": shown, "time": f"{time.monotonic() - started:.3f}"})
        return result

    run = execute
    for wrapper in reversed(conn.execute_wrappers):
        run = functools.partial(wrapper, run)
    rows = run(sql, params, False, {"connection": conn, "cursor": None})
    return [dict(zip(names, row, strict=True)) for row in rows]
