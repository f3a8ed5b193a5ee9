"""Shared set-up for the SLA benchmarks: a separate PostgreSQL database and Django pointed at it."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("SLA_BENCH_DB", "appeals_sla_bench")
PG = os.environ.get("SLA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
