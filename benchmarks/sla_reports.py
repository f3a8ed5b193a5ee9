"""Time the SLA report on the benchmark database (build it first with sla_generate.py).

    .venv/bin/python benchmarks/sla_reports.py [--runs 20] [--skip-double]

Prints:
1. one enterprise (the large tenant 1), 90 days, all figures: median and p90 (target < 50 ms);
2. all enterprises, one year: the report endpoint (GET /api/v1/reports/sla/ through Django's
   test client: middleware, auth, DRF, JSON) against the very SQL it ran, executed directly
   on a cursor in the same run (target within 1.2x);
3. the one-enterprise time again after adding as many appeals again in OTHER enterprises
   (target: changes by < 1.5x); the added batch is deleted afterwards.
"""

import argparse
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from sla_common import ROOT, django_setup


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def fmt(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=10) if len(samples) >= 2 else samples
    return f"median {statistics.median(samples):.1f} ms, p90 {q[-1]:.1f} ms (n={len(samples)})"


def one_enterprise(manager, runs: int) -> list[float]:
    from django.utils import timezone

    from appeals.sla.reports import ReportFilters, sla_report

    today = timezone.localdate()
    filters = ReportFilters(start=today - timedelta(days=89), end=today, enterprise=1)
    report = sla_report(user=manager, filters=filters)
    print(f"   (tenant 1, 90 days: opened {report['summary']['opened']}, closed {report['summary']['closed']}, "
          f"open breached {report['summary']['breached_open']})")
    timed(lambda: sla_report(user=manager, filters=filters), 3)  # warm the cache
    return timed(lambda: sla_report(user=manager, filters=filters), runs)


def endpoint_vs_sql(manager, runs: int):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    today = timezone.localdate()
    url = f"/api/v1/reports/sla/?start={today - timedelta(days=364)}&end={today}&live=1"
    client = Client()
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    print(f"   (all tenants, 1 year: opened {response.json()['summary']['opened']:,}, closed {response.json()['summary']['closed']:,})")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    n_all = len(captured.captured_queries)
    report_sql = [q["sql"] for q in captured.captured_queries if "appeals_appealsla" in q["sql"] or "appeals_slapolicy" in q["sql"]]

    def run_sql():
        with connection.cursor() as cursor:
            for sql in report_sql:
                cursor.execute(sql)
                cursor.fetchall()

    endpoint, direct = [], []
    for _ in range(runs):  # interleaved, so both see the same cache and load
        endpoint += timed(lambda: client.get(url), 1)
        direct += timed(run_sql, 1)
    return endpoint, direct, len(report_sql), n_all


def snapshot_endpoint(manager, runs: int):
    from django.test import Client
    from django.utils import timezone

    from appeals.sla.reports import report_snapshots_refresh

    started = time.perf_counter()
    report_snapshots_refresh()
    refresh_ms = (time.perf_counter() - started) * 1000
    today = timezone.localdate()
    url = f"/api/v1/reports/sla/?start={today - timedelta(days=364)}&end={today}"
    client = Client()
    client.force_login(manager)
    assert client.get(url).json()["source"] == "snapshot"
    return refresh_ms, timed(lambda: client.get(url), runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--big-runs", type=int, default=5)
    parser.add_argument("--skip-double", action="store_true")
    args = parser.parse_args()
    django_setup()
    from django.db import connection

    from appeals.models import Appeal, User

    manager = User.objects.get(username="bench-manager")
    base_count = Appeal.objects.count()
    print(f"benchmark database: {base_count:,} appeals, PostgreSQL {connection.pg_version}")

    print("1. one enterprise, 90 days, all figures (service call, ~10 queries):")
    single = one_enterprise(manager, args.runs)
    print(f"   {fmt(single)}  target < 50 ms")

    print("2. all enterprises, one year (live=1): endpoint vs its own SQL run directly")
    endpoint, direct, n_sql, n_all = endpoint_vs_sql(manager, args.big_runs)
    ratio = statistics.median(endpoint) / statistics.median(direct)
    print(f"   endpoint  {fmt(endpoint)}  ({n_all} queries incl. session/auth)")
    print(f"   SQL only  {fmt(direct)}  ({n_sql} report queries)")
    print(f"   ratio {ratio:.3f}  target <= 1.2")
    snapshot_ms = snapshot_endpoint(manager, args.runs)
    print(f"   same period served from the precomputed snapshot: refresh took {snapshot_ms[0]:.0f} ms for 3 periods; "
          f"endpoint {fmt(snapshot_ms[1])}")

    if args.skip_double:
        return
    max_id = Appeal.objects.order_by("-id").values_list("id", flat=True).first()
    print(f"3. adding {base_count:,} appeals to other enterprises ...", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "benchmarks/sla_generate.py", "--add-other", str(base_count)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"   added in {time.perf_counter() - started:.0f} s; now {Appeal.objects.count():,} appeals")
    try:
        doubled = one_enterprise(manager, args.runs)
        print(f"   one enterprise after doubling: {fmt(doubled)}")
        print(f"   change {statistics.median(doubled) / statistics.median(single):.3f}x  target < 1.5x")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            for table, column in (("appeals_appealevent", "appeal_id"), ("appeals_appealsla", "appeal_id"),
                                  ("appeals_appeal", "id"), ("appeals_banincident", "id")):
                cursor.execute(f"DELETE FROM {table} WHERE {column} > %s", [max_id])
            cursor.execute("SET session_replication_role = origin")
            cursor.execute("ANALYZE")
        print("   added batch deleted")


if __name__ == "__main__":
    main()
