"""Notification delivery: messages/second from enqueue to "sent", and what submit pays for it.

Runs against the local PostgreSQL and Redis with one real Celery worker process using the
locmem SMS and email backends (no provider latency), so the figure is the pipeline's own
cost: publish, task pickup, row claim, backend call, row update.

    .venv/bin/python benchmarks/notifications_throughput.py [--messages 500] [--runs 3] [--submits 40]

Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_notifications),
REDIS_URL (default redis://127.0.0.1:6379/11), BENCH_NOTIFICATIONS_QUEUE (default
bench-notifications). The database is created and migrated if needed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_notifications")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
QUEUE = os.environ.get("BENCH_NOTIFICATIONS_QUEUE", "bench-notifications")
os.environ["NOTIFICATIONS_QUEUE"] = QUEUE
# Throughput, not the per-phone cap: every SMS here goes to a handful of numbers.
os.environ.setdefault("SMS_DAILY_CAP_PER_PHONE", "100000000")


def ensure_database():
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def start_worker():
    from config.celery import app

    env = {**os.environ, "SMS_BACKEND": "appeals.notifications.sms.backends.locmem.SmsBackend",
           "CONN_MAX_AGE": os.environ.get("WORKER_CONN_MAX_AGE", "0")}
    log = open(ROOT / ".celery-worker-bench.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1", "-Q", QUEUE,
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench-notifications@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the benchmark worker did not start; see .celery-worker-bench.log")


def throughput_run(n: int) -> float:
    from django.db import transaction

    from appeals.models import Message, MessageState
    from appeals.notifications.outbox import send_sms

    tag = time.time_ns()
    started = time.perf_counter()
    with transaction.atomic():
        keys = [send_sms(phone=f"138{i:08d}", template="verification_code",
                         params={"code": "000000", "reference": "AP-BENCH", "company": "Bench", "minutes": 10},
                         idempotency_key=f"bench:{tag}:{i}") for i in range(n)]
    rows = Message.objects.filter(idempotency_key__in=keys)
    while rows.filter(state=MessageState.SENT).count() < n:
        if time.perf_counter() - started > 600:
            raise SystemExit("delivery did not finish within 10 minutes")
        time.sleep(0.05)
    return n / (time.perf_counter() - started)


def submit_latency(submits: int):
    """Median time of appeal_submit with the verification listener (challenges, outbox rows, publish) and without.

    Samples alternate between the two so both see the same background (the worker, other load).
    """

    from appeals.core import workflow
    from appeals.core.services.appeals import appeal_create, appeal_submit
    from appeals.verification.plugin import _start_on_submit
    from tests import factories

    enterprise = factories.EnterpriseFactory(credit_code=factories.make_credit_code(time.time_ns() % 10**9))
    admin = factories.UserFactory(username=f"bench-{time.time_ns()}", enterprise=enterprise)

    def one():
        account = factories.AccountFactory(enterprise=enterprise, account_id=f"bench-{time.time_ns()}")
        incident = factories.IncidentFactory(account=account, created_by=admin)
        appeal = appeal_create(by=admin, incident=incident, statement="bench", contact_phone=f"139{time.time_ns() % 10**8:08d}")
        started = time.perf_counter()
        appeal_submit(appeal=appeal, by=admin)  # a durable entry point: its commit and publish are timed
        return time.perf_counter() - started

    with_delivery, without = [], []
    one()
    for _i in range(submits):
        with_delivery.append(one())
        workflow._listeners.remove(_start_on_submit)
        try:
            without.append(one())
        finally:
            workflow.register_listener(_start_on_submit)
    return statistics.median(with_delivery) * 1000, statistics.median(without) * 1000


def print_submit(label, with_ms, without_ms, submits):
    print(f"submit (service call + commit + on-commit publish), {label}, median of {submits} each:")
    print(f"  with the verification listener (2 challenges, 2 outbox rows, 2 publishes): {with_ms:.1f} ms")
    print(f"  without it:                                                               {without_ms:.1f} ms")
    print(f"  added: {with_ms - without_ms:.1f} ms (ratio {with_ms / without_ms:.2f}); no delivery runs inside the request")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--submits", type=int, default=40)
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from intake import waive_intake_guards

    # The drafts carry no files (the evidence checklist is not what is measured); the two
    # proofs stay required: their messages are the delivery being measured.
    waive_intake_guards(verification=False, evidence=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(QUEUE)
    worker = start_worker()
    try:
        throughput_run(20)  # warm-up: worker imports, connections
        rates = [throughput_run(args.messages) for _ in range(args.runs)]
        print(f"delivery throughput, 1 worker (prefork, concurrency 1), locmem backend, {args.messages} messages x {args.runs} runs:")
        print(f"  median {statistics.median(rates):.0f} messages/s (runs: {', '.join(f'{r:.0f}' for r in rates)})")
        print_submit("worker running and delivering", *submit_latency(args.submits), args.submits)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print_submit("no worker (publish only)", *submit_latency(args.submits), args.submits)
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(QUEUE)


if __name__ == "__main__":
    main()
