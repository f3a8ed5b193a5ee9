"""Small database helpers that differ by vendor."""

import zlib

from django.db import connection


def advisory_xact_lock(namespace: str, value: str) -> None:
    """Serialise writers on (namespace, value) until the transaction ends (PostgreSQL).

    SQLite takes a database-wide write lock anyway, so there is nothing to do there.
    """
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{namespace}:{value}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [zlib.crc32(namespace.encode()) & 0x7FFFFFFF, key & 0x7FFFFFFF])
