"""Settings for `make lint-migrations` only: the test settings plus django-migration-linter,
a dev package (requirements-dev.txt) that production settings never name.

The rule: a migration must be safe while the previous release still serves. A new NOT NULL
column comes with a database default (`db_default`) or in two steps (nullable, backfill, then
NOT NULL); an index on an existing table is built with `AddIndexConcurrently` in a
non-atomic migration (dropped with `RemoveIndexConcurrently`).
"""

import os

from .test import *  # noqa: F401,F403
from .test import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_migration_linter"]

# The linter renders each migration's SQL (sqlmigrate) and reads which are applied: it needs
# a PostgreSQL connection but writes nothing. The maintenance database exists on every server,
# so linting needs neither the dev database nor a migrated one.
DATABASES = {"default": {**DATABASES["default"], "ENGINE": "django.db.backends.postgresql",
                         "NAME": os.environ.get("LINT_DATABASE_NAME", "postgres")}}

MIGRATION_LINTER_OPTIONS = {
    "include_apps": ["appeals"],
    # Grandfathered: everything up to the release that introduced the linter. Every
    # migration after these is linted.
    "ignore_name": [
        "0001_initial", "0002_audit_append_only", "0003_verification", "0004_evidence",
        "0005_sla", "0006_sla_seed", "0007_sla_report_snapshot", "0008_surge",
    ],
    # A non-concurrent index build on an existing table blocks writes for its whole duration.
    "warnings_as_errors": ["CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE", "DROP_INDEX"],
    "no_cache": True,
    "sql_analyser": "postgresql",
}
