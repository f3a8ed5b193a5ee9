"""Child process of tests/ops/test_replica.py: the app on a throw-away primary with a real
streaming replica (DATABASE_URL, DATABASE_REPLICA_URL). Prints "PASS <scenario>" for each
scenario that held and exits 1 at the first that did not."""

import os
import shlex
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_REPLICA_MAX_LAG", "600")
os.environ.setdefault("DATABASE_REPLICA_CHECK_SECONDS", "60")

import psycopg  # noqa: E402

DB_NAME = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
with psycopg.connect(os.environ["PRIMARY_ADMIN_URL"], autocommit=True) as admin:
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from appeals.core import selectors  # noqa: E402
from appeals.models import Appeal, AppealState  # noqa: E402
from appeals.shared import replica  # noqa: E402
from tests import factories  # noqa: E402

setup_test_environment()
call_command("migrate", verbosity=0)

PRIMARY = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
REPLICA_URL = os.environ["DATABASE_REPLICA_URL"]


def on_replica(sql):
    with psycopg.connect(REPLICA_URL, autocommit=True, connect_timeout=3) as conn:
        return conn.execute(sql).fetchone()


def caught_up(timeout=30.0):
    lsn = PRIMARY.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@contextmanager
def replay_paused():
    on_replica("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        on_replica("SELECT pg_wal_replay_resume()")
        caught_up()


@contextmanager
def queries_by_alias():
    counts = {"default": 0, "replica": 0}

    def counter(alias):
        def count(execute, sql, params, many, context):
            counts[alias] += 1
            return execute(sql, params, many, context)
        return count

    with connections["default"].execute_wrapper(counter("default")), connections["replica"].execute_wrapper(counter("replica")):
        yield counts


def get(client, path, **extra):
    with queries_by_alias() as counts:
        started = time.perf_counter()
        response = client.get(path, **extra)
        elapsed = time.perf_counter() - started
    return response, counts, elapsed


# --- data, written on the primary ------------------------------------------------------------------

enterprise = factories.EnterpriseFactory(name="Replica Co")
applicant = factories.UserFactory(username="replica-applicant", enterprise=enterprise)
account = factories.AccountFactory(enterprise=enterprise)
manager = factories.UserFactory(username="replica-manager", is_manager=True, is_staff=True)
for _ in range(3):
    factories.AppealFactory(filed_by=applicant, incident=factories.IncidentFactory(account=account, created_by=applicant))
Appeal.objects.filter(pk__in=Appeal.objects.values("pk")[:2]).update(state=AppealState.FIRST_REVIEW)
_token, token_key = AuthToken.objects.create(user=manager)
mgr = Client()
mgr.force_login(manager)
app = Client()
app.force_login(applicant)
scenarios = []


def scenario(name):
    def register(fn):
        scenarios.append((name, fn))
        return fn
    return register


@scenario("replica streams the primary's schema and rows")
def _():
    caught_up()
    assert connections["replica"].settings_dict["PORT"] != connections["default"].settings_dict["PORT"]
    assert on_replica("SELECT pg_is_in_recovery()")[0] is True
    with replica.replica_reads():
        assert replica.reading_from_replica()
        assert Appeal.objects.count() == 3
    assert not replica.reading_from_replica()  # outside the marker: the primary


@scenario("a report reads the replica")
def _():
    response, counts, _ = get(mgr, "/manager/reports/sla/?live=1")
    assert response.status_code == 200, response.status_code
    assert counts["replica"] >= 3, counts  # the report's own queries
    # Session and user, read before the view, and the report.sla_view audit event (a write: the
    # chain lock, its head, the insert): the report's own reads are all the replica's.
    assert counts["default"] <= 8, counts


@scenario("an export and the report API read the replica")
def _():
    response, counts, _ = get(mgr, "/manager/reports/sla/summary.csv?live=1")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), response.status_code
    assert counts["replica"] >= 3, counts
    api = Client()
    response, counts, _ = get(api, "/api/v1/reports/sla/?live=1", HTTP_AUTHORIZATION=f"Token {token_key}")
    assert response.status_code == 200, response.content[:300]
    # The token lookup and the report.sla_view audit event (a write) are the primary's.
    assert counts["replica"] >= 3 and counts["default"] <= 7, counts


@scenario("a manager dashboard shows the replica's (lagging) figures")
def _():
    with replay_paused():
        before = selectors.appeal_state_counts(user=manager)
        factories.AppealFactory(filed_by=applicant, incident=factories.IncidentFactory(account=account, created_by=applicant),
                                state=AppealState.FIRST_REVIEW)
        now = selectors.appeal_state_counts(user=manager)
        assert now["first_review"] == before["first_review"] + 1
        response, counts, _ = get(mgr, "/manager/")
        assert response.status_code == 200 and counts["replica"] > 0, counts
        shown = {state: n for _label, state, n in response.context["counts"]}
        assert shown == before, (shown, before)  # the replica has not replayed the new case yet
    caught_up()  # replay resumed: wait until the replica has applied the new case
    deadline = time.monotonic() + 15
    while True:
        response, counts, _ = get(mgr, "/manager/")
        shown = {state: n for _label, state, n in response.context["counts"]}
        if shown == now or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown == now, (shown, now, counts)  # caught up


@scenario("the page after a submit reads the primary")
def _():
    with replay_paused():
        response = app.post("/appeals/new/", {
            "account": account.pk, "kind": "short_ban", "reason": "unknown", "banned_at": "2026-11-30T10:00",
            "notice_text": "", "statement": "We did not spam; please lift the ban.", "contact_phone": "13812345678",
        })
        assert response.status_code == 302, response.content[:500]
        reference = response["Location"].rstrip("/").rsplit("/", 1)[1]
        with psycopg.connect(REPLICA_URL, autocommit=True) as conn:  # not on the replica yet
            assert conn.execute("SELECT count(*) FROM appeals_appeal WHERE reference = %s", [reference]).fetchone()[0] == 0
        page, counts, _ = get(app, response["Location"])
        assert page.status_code == 200 and reference in page.content.decode(), page.status_code
        assert counts["replica"] == 0, counts


@scenario("a search reads the replica, the plain list the primary")
def _():
    with replay_paused():
        newest = factories.AppealFactory(filed_by=applicant, incident=factories.IncidentFactory(account=account, created_by=applicant))
        response, counts, _ = get(app, "/appeals/?state=draft")
        assert response.status_code == 200 and counts["replica"] > 0, counts
        assert newest.reference not in response.content.decode()  # the replica is behind
        response, counts, _ = get(app, "/appeals/")
        assert response.status_code == 200 and counts["replica"] == 0, counts
        assert newest.reference in response.content.decode()


@scenario("a replica too far behind is not used")
def _():
    with replay_paused():
        factories.AppealFactory(filed_by=applicant, incident=factories.IncidentFactory(account=account, created_by=applicant))
        time.sleep(1.5)
        settings.DATABASE_REPLICA_MAX_LAG = 1.0
        replica.forget_verdict()
        try:
            response, counts, _ = get(mgr, "/manager/reports/sla/?live=1")
            assert response.status_code == 200 and counts["replica"] == 1, counts  # only the lag probe
            assert replica._verdict["lag"] >= 1.0, replica._verdict
        finally:
            settings.DATABASE_REPLICA_MAX_LAG = 600.0
            replica.forget_verdict()


@scenario("a replica that is down: reads fall back to the primary")
def _():
    subprocess.run(shlex.split(os.environ["REPLICA_STOP_CMD"]), check=True, capture_output=True, timeout=60)
    connections["replica"].close()
    replica.forget_verdict()
    response, counts, elapsed = get(mgr, "/manager/reports/sla/?live=1")
    assert response.status_code == 200 and counts["replica"] == 0 and counts["default"] >= 3, counts
    assert elapsed < 3.0, elapsed
    response, counts, _ = get(mgr, "/manager/")
    assert response.status_code == 200 and counts["replica"] == 0, counts


@scenario("a replica that dies mid-request: the view runs again on the primary")
def _():
    # The last probe (up to DATABASE_REPLICA_CHECK_SECONDS ago) said "up"; the replica has died since.
    replica._verdict.update(ok=True, lag=0.0, until=time.monotonic() + 60)
    response, counts, _ = get(mgr, "/manager/reports/sla/?live=1")
    assert response.status_code == 200 and counts["default"] >= 3, counts
    assert replica._verdict["ok"] is False  # and the next reads go straight to the primary


@scenario("readyz stays ready with the replica down and says so")
def _():
    response = Client().get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database:replica"]["ok"] is False and body["checks"]["database"]["ok"] is True, body


for name, fn in scenarios:
    try:
        fn()
    except Exception:
        print(f"FAIL {name}")
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
    print(f"PASS {name}", flush=True)
