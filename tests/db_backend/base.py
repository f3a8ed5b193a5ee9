"""PostgreSQL backend for the test run only: lets the test runner flush the audit table.

Transactional tests end with a TRUNCATE of every table, which the append-only trigger
refuses. Here the flush (and only the flush) lifts the trigger for its own transaction.
Production uses the stock backend.
"""

from django.db.backends.postgresql import base, operations

AUDIT_TABLE = "appeals_auditevent"


class DatabaseOperations(operations.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        if any(AUDIT_TABLE in sql for sql in sql_list):
            sql_list = [
                f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER audit_no_truncate",
                *sql_list,
                f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER audit_no_truncate",
            ]
        return super().execute_sql_flush(sql_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
