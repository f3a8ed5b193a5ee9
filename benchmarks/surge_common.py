"""Shared set-up for the surge benchmarks: a separate PostgreSQL database, migrated, and Django.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_appeals_surge),
REDIS_URL (default redis://127.0.0.1:6379/10). The benchmark database is created if missing
and never touched by the test suite.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_appeals_surge")


def setup_django(**surge_env):
    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
    # Redis mode as deployed (worker + beat): nothing runs the scan in-process. No worker is
    # needed: the benchmark policies never open an alert, so nothing is queued.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("SMS_DAILY_CAP_PER_PHONE", "100000000")  # many submissions per enterprise
    os.environ.update({k: str(v) for k, v in surge_env.items()})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    _create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_database():
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def clear_surge_redis():
    from django.conf import settings

    from appeals.surge.counters import redis_client

    client = redis_client(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{settings.SURGE['REDIS_PREFIX']}:*", count=5000))
    for start in range(0, len(keys), 5000):
        client.delete(*keys[start : start + 5000])


def median_ms(samples):
    import statistics

    return statistics.median(samples) * 1000
