"""Time of one GET /metrics scrape (through the whole middleware stack) with 1,000,000 appeals.

The database holds --appeals appeals, of which --open are open (one per incident, each with a
running SLA clock, due times spread from 12 hours ago to 36 hours ahead), every closed one with
a closed clock, --messages outbox rows of which --backlog still queued, and two open surge
alerts. Printed: the median and 95th percentile of the scrape, each domain figure's own query,
and the live GROUP BY over appeals that the beat-refreshed snapshot replaces.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_appeals_metrics,
created if missing), REDIS_URL (default redis://127.0.0.1:6379/10).

    .venv/bin/python benchmarks/metrics_scrape.py [--appeals 1000000] [--open 20000] [--messages 1000000] [--backlog 2000] [--runs 25]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_appeals_metrics")

from bench_schema import check_insert_columns  # noqa: E402
from surge_common import setup_django  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--appeals", type=int, default=1_000_000)
parser.add_argument("--open", type=int, default=20_000, help="open appeals (drafts and cases in review)")
parser.add_argument("--messages", type=int, default=1_000_000, help="outbox rows")
parser.add_argument("--backlog", type=int, default=2_000, help="of which still queued")
parser.add_argument("--runs", type=int, default=25)
parser.add_argument("--keep", action="store_true", help="reuse the rows already there if the counts match")
ARGS = parser.parse_args()

setup_django(CELERY_TASK_ALWAYS_EAGER="false")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from appeals.models import Appeal, BanIncident, Message, SurgeAlert  # noqa: E402
from appeals.ops import gauges, store  # noqa: E402
from appeals.sla.models import AppealSla  # noqa: E402
from tests import factories  # noqa: E402

OPEN_STATES = ["draft", "submitted", "first_review", "second_review", "needs_info", "escalated"]

INCIDENTS_SQL = """
INSERT INTO appeals_banincident (account_id, enterprise_id, created_by_id, kind, severity, notice_text, reason, banned_at, created_at)
SELECT %(account)s, %(enterprise)s, %(user)s, 'short_ban', 'minor', 'bench-metrics', '', now(), now()
  FROM generate_series(1, %(n)s)
"""
APPEALS_SQL = """
INSERT INTO appeals_appeal (reference, enterprise_id, incident_id, statement, contact_phone, state, filed_by_id, resume_state,
                            submitted_at, decided_at, created_at, updated_at, is_emergency)
SELECT 'AP-M-' || lpad(g::text, 10, '0'), %(enterprise)s,
       CASE WHEN g <= %(open)s THEN %(first_incident)s + g - 1 ELSE %(first_incident)s END,
       'bench', '13800000000',
       CASE WHEN g <= %(open)s THEN (%(open_states)s::text[])[1 + g %% 6]
            ELSE (ARRAY['approved', 'rejected', 'withdrawn'])[1 + g %% 3] END,
       %(user)s, '', t.at, CASE WHEN g > %(open)s THEN t.at END, t.at, t.at, false
  FROM generate_series(1, %(n)s) AS g
  CROSS JOIN LATERAL (SELECT now() - (g::float / %(n)s) * interval '730 days' AS at) t
"""
SLA_SQL = """
INSERT INTO appeals_appealsla (appeal_id, enterprise_id, severity, state, unit, amount, submitted_at, started_at, running_since,
                               spent_clock_seconds, spent_working_seconds, paused_seconds, warn_at, due_at, closed_at, outcome,
                               auto_rule, auto_reasons)
SELECT a.id, a.enterprise_id, 'minor', a.state, 'clock_hours', 24, a.created_at, a.created_at,
       CASE WHEN a.decided_at IS NULL THEN a.created_at END, 0, 0, 0, d.due - interval '288 minutes', d.due,
       CASE WHEN a.decided_at IS NOT NULL THEN a.decided_at END, CASE WHEN a.decided_at IS NOT NULL THEN a.state ELSE '' END,
       '', '[]'::jsonb
  FROM appeals_appeal a
  CROSS JOIN LATERAL (SELECT CASE WHEN a.decided_at IS NULL
                                  THEN now() - interval '12 hours' + ((abs(hashtext(a.reference)) %% 1000) / 1000.0) * interval '48 hours'
                                  ELSE a.created_at + interval '24 hours' END AS due) d
"""
MESSAGES_SQL = """
INSERT INTO appeals_message (idempotency_key, channel, recipient, template, params, language, state, reason, attempts, provider_id,
                             created_at, updated_at)
SELECT 'bench-metrics-' || g, 'sms', '13800000000', 'verification_code', '{}'::jsonb, '',
       CASE WHEN g <= %(backlog)s THEN 'queued' ELSE 'sent' END, '', 1, '',
       now() - g * interval '1 second', now() - g * interval '1 second'
  FROM generate_series(1, %(n)s) AS g
"""


def fill():
    if ARGS.keep and Appeal.objects.count() == ARGS.appeals and Message.objects.count() == ARGS.messages:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Appeal._meta.db_table}, {Message._meta.db_table}, {SurgeAlert._meta.db_table}, "
                       f"{BanIncident._meta.db_table} CASCADE")
    user = factories.UserFactory(username=f"bench-metrics-{time.time_ns()}")
    enterprise = factories.EnterpriseFactory(credit_code=factories.make_credit_code(time.time_ns() % 900000 + 1000))
    account = factories.AccountFactory(enterprise=enterprise, account_id=f"bench-metrics-{time.time_ns()}")
    common = {"user": user.pk, "enterprise": enterprise.pk, "account": account.pk}
    with connection.cursor() as cursor:
        cursor.execute(INCIDENTS_SQL + " RETURNING id", {**common, "n": max(1, ARGS.open)})
        ids = sorted(row[0] for row in cursor.fetchall())
        assert ids[-1] - ids[0] == len(ids) - 1, "incident ids are not consecutive"
        common["first_incident"] = ids[0]
        cursor.execute(APPEALS_SQL, {**common, "n": ARGS.appeals, "open": ARGS.open, "open_states": OPEN_STATES})
        cursor.execute(SLA_SQL, {})
        cursor.execute(MESSAGES_SQL, {"n": ARGS.messages, "backlog": ARGS.backlog})
    for platform in ("wecom", "dingtalk"):
        SurgeAlert.objects.create(dimension="platform", value=platform, window_minutes=10, window_start=enterprise.created_at,
                                  count=40, usual=7.0, floor=20, factor=3.0, opened_at=enterprise.created_at)
    with connection.cursor() as cursor:  # what autovacuum would have done by the time anyone scrapes
        for table in ("appeals_appeal", "appeals_appealsla", "appeals_message", "appeals_surgealert"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def timed(fn, runs):
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def show(label, samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    print(f"  {label:<48} median {statistics.median(samples):8.2f} ms   p95 {p95:8.2f} ms   (n={len(samples)})")


def main():
    for sql in (INCIDENTS_SQL, APPEALS_SQL, SLA_SQL, MESSAGES_SQL):
        check_insert_columns(sql)
    started = time.perf_counter()
    fill()
    print(f"appeals={Appeal.objects.count():,} open={ARGS.open:,} sla_clocks={AppealSla.objects.count():,} "
          f"messages={Message.objects.count():,} backlog={ARGS.backlog:,} (fill {time.perf_counter() - started:.1f} s)")
    client = store.client()
    if client is not None:
        client.delete(store.STATE_COUNTS_KEY)
    store.beat("bench-worker")

    def live_group_by():
        return list(Appeal.objects.order_by().values_list("state").annotate(n=__import__("django.db.models").db.models.Count("pk")))

    print("figures (each query alone):")
    show("appeals by state, live GROUP BY (not used)", timed(live_group_by, ARGS.runs))
    show("appeals by state, snapshot refresh (beat task)", timed(gauges.refresh_state_counts, max(3, ARGS.runs // 5)))
    show("outbox backlog + oldest pending", timed(gauges.outbox_backlog, ARGS.runs))
    show("SLA breached + about to breach", timed(gauges.sla_risk, ARGS.runs))
    show("open surge alerts", timed(gauges.open_surge_alerts, ARGS.runs))
    web = Client(HTTP_HOST="127.0.0.1")

    def scrape():
        response = web.get("/metrics")
        assert response.status_code == 200, response.status_code
        return response

    body = scrape().content.decode()
    assert "appeals_sla_breached" in body and 'appeals_by_state{state="approved"}' in body, body[:2000]
    print("scrape (GET /metrics through the middleware, snapshot in Redis):")
    samples = timed(scrape, ARGS.runs)
    show("GET /metrics", samples)
    for line in body.splitlines():
        if line.startswith(("appeals_by_state{", "appeals_outbox", "appeals_sla_", "appeals_surge_alerts_open{")):
            print("   ", line)
    print(f"RESULT metrics_scrape median_ms={statistics.median(samples):.2f} appeals={ARGS.appeals}")


if __name__ == "__main__":
    main()
