"""Run time of the every-minute surge scan with 10,000 and with 1,000,000 appeals in the database.

Both sizes hold the same recent traffic (the last 8 days: what the rule can ever look at); the
rest is older history spread over two years. Default policy (10 min, floor 20, factor 3, 7 days).
Two moments are timed at each size:
  * a quiet minute: only the usual trickle in the current window;
  * a ban wave: 300 appeals in the last 5 minutes over every platform, kind and enterprise.
    The first scan opens the alerts (all, the platforms, the kinds); the following scans are
    the steady state while the wave lasts (quiet checks on every open alert).
The scan must cost the same at both sizes. Also measured: rebuilding the Redis counters from
the database, and the embedded (database-counting) scan.

    .venv/bin/python benchmarks/surge_scan.py [runs] [--sizes 10000 1000000] [--recent 5000] [--current 300] [--enterprises 50]
"""

import argparse
import time

from bench_schema import check_insert_columns
from surge_common import clear_surge_redis, median_ms, setup_django

parser = argparse.ArgumentParser()
parser.add_argument("runs", nargs="?", type=int, default=15)
parser.add_argument("--sizes", type=int, nargs=2, default=(10_000, 1_000_000), help="the two database sizes compared")
parser.add_argument("--recent", type=int, default=5_000, help="appeals in the last 8 days, the same at every size")
parser.add_argument("--current", type=int, default=300, help="of which in the last 5 minutes, inserted just before the scans")
parser.add_argument("--enterprises", type=int, default=50, help="each with 3 platforms x 7 incident kinds")
ARGS = parser.parse_args()
RUNS, RECENT, CURRENT, SIZES = ARGS.runs, ARGS.recent, ARGS.current, tuple(ARGS.sizes)

setup_django(CELERY_TASK_ALWAYS_EAGER="true")  # the alert emails go to the locmem backend in-process

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appeals.models import Appeal, SurgeAlert  # noqa: E402
from appeals.surge.counters import DatabaseCounts, RedisCounts  # noqa: E402
from appeals.surge.services import surge_scan  # noqa: E402
from tests import factories  # noqa: E402

# Appeals and alerts go; CASCADE takes whatever references them (events, SLA rows, notices).
TRUNCATE = f"TRUNCATE {Appeal._meta.db_table}, {SurgeAlert._meta.db_table} CASCADE"


def fixtures():
    """50 enterprises x 3 platforms x 7 incident kinds: 1,050 incidents the appeals point at."""
    wanted = ARGS.enterprises * 21
    with connection.cursor() as cursor:
        cursor.execute(TRUNCATE)
        cursor.execute("SELECT count(*) FROM appeals_banincident WHERE notice_text = 'bench'")
        if cursor.fetchone()[0] >= wanted:
            cursor.execute("SELECT min(created_by_id) FROM appeals_banincident WHERE notice_text = 'bench'")
            return cursor.fetchone()[0]
    user = factories.UserFactory(username="bench-scan")
    kinds = ["desktop_logout", "cannot_be_added", "adds_restricted", "requests_fail", "short_ban", "permanent_ban", "entity_ban"]
    for e in range(ARGS.enterprises):
        enterprise = factories.EnterpriseFactory(credit_code=factories.make_credit_code(800000 + e), name=f"Scan {e}")
        for platform in ("wecom", "dingtalk", "feishu"):
            account = factories.AccountFactory(enterprise=enterprise, platform=platform, account_id=f"scan-{e}-{platform}")
            for kind in kinds:
                factories.IncidentFactory(account=account, created_by=user, kind=kind, notice_text="bench")
    return user.pk


FILL_SQL = """
            WITH inc AS (SELECT id, enterprise_id, row_number() OVER (ORDER BY id) - 1 AS k
                           FROM appeals_banincident WHERE notice_text = 'bench'),
                 n AS (SELECT count(*) AS c FROM inc)
            INSERT INTO appeals_appeal (reference, enterprise_id, incident_id, statement, contact_phone, state,
                                        filed_by_id, resume_state, submitted_at, decided_at, created_at, updated_at,
                                        is_emergency)
            SELECT 'AP-B-' || lpad(g::text, 10, '0'), inc.enterprise_id, inc.id, 'bench', '13800000000', 'approved',
                   %(user)s, '', t.at, t.at, t.at, t.at, false
              FROM generate_series(%(first)s, %(last)s) AS g
              CROSS JOIN n
              JOIN inc ON inc.k = (g::bigint * 7919) %% n.c
              CROSS JOIN LATERAL (SELECT CASE
                     WHEN g <= %(current)s THEN clock_timestamp() - (g::float / %(current)s) * interval '5 minutes'
                     WHEN g <= %(recent)s THEN now() - ((g - %(current)s)::float / (%(recent)s - %(current)s)) * interval '8 days'
                     ELSE now() - interval '9 days' - ((g - %(recent)s)::float / %(old)s) * interval '730 days' END AS at) t
"""


def fill(total, user_id, *, wave=False):
    """`total` appeals: RECENT spread over the last 8 days, the rest over the two years before;
    with wave=True, add the CURRENT appeals of a ban wave in the last 5 minutes."""
    with connection.cursor() as cursor:
        if not wave:
            cursor.execute(TRUNCATE)
        sql = FILL_SQL
        params = {"user": user_id, "current": CURRENT, "recent": RECENT, "old": max(1, total - RECENT)}
        if wave:
            cursor.execute(sql, {**params, "first": 1, "last": CURRENT})  # the current window, just now
        else:
            cursor.execute(sql, {**params, "first": CURRENT + 1, "last": total})  # the bulk: slow at 1M
            cursor.execute("ANALYZE appeals_appeal")


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def scans(runs, counts_class):
    return median_ms(timed(lambda: surge_scan(now=timezone.now(), counts=counts_class()), runs))


def main():
    check_insert_columns(FILL_SQL)
    user_id = fixtures()
    results = {}
    for total in SIZES:
        start = time.perf_counter()
        fill(total, user_id)
        fill_s = time.perf_counter() - start
        clear_surge_redis()
        counts = RedisCounts()
        rebuild = median_ms(timed(lambda counts=counts: (counts.forget(), counts.rebuild(now=timezone.now())), 3))
        quiet_checked = surge_scan(now=timezone.now()).checked
        quiet = (scans(RUNS, RedisCounts), scans(RUNS, DatabaseCounts))

        fill(total, user_id, wave=True)
        counts.forget()
        counts.rebuild(now=timezone.now())  # the wave was inserted by SQL, not counted live
        start = time.perf_counter()
        first = surge_scan(now=timezone.now())
        opening_ms = (time.perf_counter() - start) * 1000
        wave = (scans(RUNS, RedisCounts), scans(RUNS, DatabaseCounts))
        results[total] = (*quiet, *wave, rebuild)
        print(f"{total:>9,} appeals in the database (filled in {fill_s:.1f} s)")
        print(f"    rebuild Redis counters from the database : median {rebuild:8.2f} ms over 3 runs")
        print(f"    quiet minute ({quiet_checked:>2} slices active): scan with Redis counters median {quiet[0]:7.2f} ms, "
              f"embedded (database) median {quiet[1]:7.2f} ms, {RUNS} runs each")
        print(f"    ban wave: first scan ({first.checked} slices, opened {len(first.opened)} alerts) {opening_ms:7.2f} ms")
        print(f"    ban wave, steady ({len(first.opened)} open alerts): scan with Redis counters median {wave[0]:7.2f} ms, "
              f"embedded (database) median {wave[1]:7.2f} ms, {RUNS} runs each")
    small, large = (results[s] for s in SIZES)
    names = ("quiet/Redis", "quiet/database", "wave/Redis", "wave/database", "rebuild")
    print(f"ratio {SIZES[1]:,} / {SIZES[0]:,}: " + ", ".join(f"{n} {b / a:.2f}x" for n, a, b in zip(names, small, large, strict=True)))


if __name__ == "__main__":
    main()
