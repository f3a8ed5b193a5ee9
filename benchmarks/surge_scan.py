"""Run time of the every-minute surge scan with 10,000 and with 1,000,000 appeals in the database.

Both sizes hold the same recent traffic (the last 8 days: what the rule can ever look at); the
rest is older history. The scan must cost the same at both sizes. Also measured: rebuilding
the Redis counters from the database, and the embedded (database-counting) scan.

    .venv/bin/python benchmarks/surge_scan.py [runs]
"""

import sys
import time

from surge_common import clear_surge_redis, median_ms, setup_django

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
RECENT = 5_000  # appeals in the last 8 days, the same at every size
SIZES = (10_000, 1_000_000)

setup_django()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appeals.services import surge  # noqa: E402
from tests import factories  # noqa: E402


def fixtures():
    """50 enterprises x 3 platforms x 7 incident kinds: 1,050 incidents the appeals point at."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appeals_appealevent, appeals_appeal, appeals_surgenotification, appeals_surgealert CASCADE")
        cursor.execute("SELECT count(*) FROM appeals_banincident WHERE notice_text = 'bench'")
        if cursor.fetchone()[0] >= 1050:
            cursor.execute("SELECT min(created_by_id) FROM appeals_banincident WHERE notice_text = 'bench'")
            return cursor.fetchone()[0]
    user = factories.UserFactory(username="bench-scan")
    kinds = ["desktop_logout", "cannot_be_added", "adds_restricted", "requests_fail", "short_ban", "permanent_ban", "entity_ban"]
    for e in range(50):
        enterprise = factories.EnterpriseFactory(credit_code=factories.make_credit_code(800000 + e), name=f"Scan {e}")
        for platform in ("wecom", "dingtalk", "feishu"):
            account = factories.AccountFactory(enterprise=enterprise, platform=platform, account_id=f"scan-{e}-{platform}")
            for kind in kinds:
                factories.IncidentFactory(account=account, created_by=user, kind=kind, notice_text="bench")
    return user.pk


def fill(total, user_id):
    """`total` appeals: RECENT spread over the last 8 days, the rest over the two years before."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appeals_appealevent, appeals_appeal CASCADE")
        cursor.execute(
            """
            WITH inc AS (SELECT id, enterprise_id, row_number() OVER (ORDER BY id) - 1 AS k
                           FROM appeals_banincident WHERE notice_text = 'bench'),
                 n AS (SELECT count(*) AS c FROM inc)
            INSERT INTO appeals_appeal (reference, enterprise_id, incident_id, statement, contact_phone, state,
                                        filed_by_id, resume_state, submitted_at, decided_at, created_at, updated_at,
                                        is_emergency)
            SELECT 'AP-B-' || lpad(g::text, 10, '0'), inc.enterprise_id, inc.id, 'bench', '13800000000', 'approved',
                   %(user)s, '', t.at, t.at, t.at, t.at, false
              FROM generate_series(1, %(total)s) AS g
              CROSS JOIN n
              JOIN inc ON inc.k = (g::bigint * 7919) %% n.c
              CROSS JOIN LATERAL (SELECT CASE WHEN g <= %(recent)s
                     THEN now() - (g::float / %(recent)s) * interval '8 days'
                     ELSE now() - interval '9 days' - ((g - %(recent)s)::float / %(old)s) * interval '730 days' END AS at) t
            """,
            {"user": user_id, "total": total, "recent": RECENT, "old": max(1, total - RECENT)},
        )
        cursor.execute("ANALYZE appeals_appeal")


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main():
    user_id = fixtures()
    results = {}
    for total in SIZES:
        start = time.perf_counter()
        fill(total, user_id)
        fill_s = time.perf_counter() - start
        clear_surge_redis()
        counts = surge.RedisCounts()
        rebuild = timed(lambda counts=counts: (counts.forget(), counts.rebuild(now=timezone.now())), 3)
        redis_scan = timed(lambda: surge.surge_scan(now=timezone.now(), counts=surge.RedisCounts()), RUNS)
        db_scan = timed(lambda: surge.surge_scan(now=timezone.now(), counts=surge.DatabaseCounts()), RUNS)
        report = surge.surge_scan(now=timezone.now())
        results[total] = (median_ms(redis_scan), median_ms(db_scan), median_ms(rebuild))
        print(f"{total:>9,} appeals (filled in {fill_s:.1f} s; {report.checked} slices active in the window)")
        print(f"    scan, Redis counters      : median {results[total][0]:8.2f} ms over {RUNS} runs")
        print(f"    scan, embedded (database) : median {results[total][1]:8.2f} ms over {RUNS} runs")
        print(f"    rebuild counters from DB  : median {results[total][2]:8.2f} ms over 3 runs")
    small, large = (results[s] for s in SIZES)
    print(f"ratio 1,000,000 / 10,000: scan (Redis) {large[0] / small[0]:.2f}x, scan (database) {large[1] / small[1]:.2f}x, "
          f"rebuild {large[2] / small[2]:.2f}x")


if __name__ == "__main__":
    main()
