"""Reads that tolerate lag go to a real streaming replica (a second PostgreSQL cluster on this
machine, streaming from its own primary); reads that must see their own writes stay on the
primary; a replica that is down or too far behind sends the reads back to the primary.

The scenarios need the whole app pointed at that primary, so they run in a child process
(tests/ops/replica_scenarios.py) and report each scenario; this test asserts every one passed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops import pg_pair

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = [
    "replica streams the primary's schema and rows",
    "a report reads the replica",
    "an export and the report API read the replica",
    "a manager dashboard shows the replica's (lagging) figures",
    "the page after a submit reads the primary",
    "a search reads the replica, the plain list the primary",
    "a replica too far behind is not used",
    "a replica that is down: reads fall back to the primary",
    "a replica that dies mid-request: the view runs again on the primary",
    "readyz stays ready with the replica down and says so",
]


@pytest.fixture(scope="module")
def pair():
    if not pg_pair.available():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed")
    p = pg_pair.PgPair()
    try:
        p.start()
        yield p
    finally:
        p.close()


@pytest.mark.slow
def test_replica_routing_scenarios(pair):
    scrub = {"DATABASE_URL", "DATABASE_REPLICA_URL", "TEST_DB_NAME", "DJANGO_SETTINGS_MODULE", "TEST_WORKER_DATABASE_NAME"}
    env = {k: v for k, v in os.environ.items() if k not in scrub}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": pair.url("primary", "appeals_replica"),
        "DATABASE_REPLICA_URL": pair.url("replica", "appeals_replica"),
        "REPLICA_DATA_DIR": str(pair.replica_dir),
        "REPLICA_STOP_CMD": " ".join(["runuser -u postgres --" if pair.as_postgres else "", pg_pair._bin("pg_ctl"),
                                      "-D", str(pair.replica_dir), "-m", "immediate", "-w", "stop"]).strip(),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "PRIMARY_ADMIN_URL": pair.url("primary", "postgres"),
    })
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("replica_scenarios.py"))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    passed = [line[5:] for line in proc.stdout.splitlines() if line.startswith("PASS ")]
    assert proc.returncode == 0 and passed == SCENARIOS, proc.stdout[-4000:] + proc.stderr[-4000:]
