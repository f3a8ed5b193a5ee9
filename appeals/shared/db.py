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

import zlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import connection, transaction

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
