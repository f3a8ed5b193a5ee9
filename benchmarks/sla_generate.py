"""Build the SLA benchmark database: N appeals (default 1,000,000) with their incidents,
accounts, timeline events and SLA rows, in a separate PostgreSQL database, with
INSERT ... SELECT generate_series (no Python loop over rows).

    .venv/bin/python benchmarks/sla_generate.py                # fresh database, 1,000,000 appeals
    .venv/bin/python benchmarks/sla_generate.py --appeals 100000
    .venv/bin/python benchmarks/sla_generate.py --add-other 1000000   # a second batch, never in enterprise 1
    .venv/bin/python benchmarks/sla_generate.py --appeals 200 --enterprises 20 --accounts-per-enterprise 5   # the smoke size

Enterprises 1-10 are large tenants (1% of the appeals each); the rest share the remainder.
The database is SLA_BENCH_DB (default appeals_sla_bench). Every INSERT's column list is
checked against the models first (bench_schema.py), so a new required column fails loudly.
"""

import argparse
import subprocess
import sys
import time

from bench_schema import check_insert_columns
from sla_common import BENCH_DB, PG, ROOT, django_setup

ENTERPRISES = 1000
ACCOUNTS_PER_ENTERPRISE = 200
REVIEWERS = 40


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    env = {"DATABASE_URL": f"{PG}/{BENCH_DB}", "DJANGO_SETTINGS_MODULE": "config.settings.local", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


BASE_SQL = """
INSERT INTO appeals_enterprise (id, name, credit_code, legal_rep_name, legal_rep_mobile, admin_name, admin_email, admin_phone, created_at)
SELECT e, '基准企业 ' || e, 'BENCH' || lpad(e::text, 13, '0'), '张伟', '13800000000', '李娜', 'admin' || e || '@example.com',
       '13900000000', now() - interval '3 years'
FROM generate_series(1, {E}) e;

INSERT INTO appeals_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined,
                          enterprise_id, is_first_reviewer, is_second_reviewer, is_manager, phone)
SELECT 1, '!', false, 'bench-manager', '', '', 'manager@example.com', true, true, now(), NULL::bigint, false, false, true, ''
UNION ALL
SELECT 1 + r, '!', false, 'bench-reviewer-' || r, '', '', 'r' || r || '@example.com', true, true, now(), NULL, true, true, false, ''
FROM generate_series(1, {R}) r
UNION ALL
SELECT 1000 + e, '!', false, 'bench-admin-' || e, '', '', 'a' || e || '@example.com', false, true, now(), e, false, false, false, ''
FROM generate_series(1, {E}) e;

INSERT INTO appeals_messagingaccount (id, enterprise_id, platform, account_id, display_name, account_type, created_at)
SELECT a, 1 + (a - 1) / {A}, (ARRAY['wecom', 'wecom', 'dingtalk', 'feishu'])[1 + a % 4], 'bench-' || a, '销售 ' || a,
       (ARRAY['master', 'operations', 'customer_service', 'developer'])[1 + a % 4], now() - interval '3 years'
FROM generate_series(1, {E} * {A}) a;
"""

# One row per appeal with every random attribute decided once; the real tables are filled from it.
CASES_SQL = """
DROP TABLE IF EXISTS bench_case;
CREATE UNLOGGED TABLE bench_case AS
WITH base AS (
    SELECT i,
           {ENT_EXPR} AS ent,
           random() AS r_sev, random() AS r_out, random() AS r_stuck, random() AS r_claim, random() AS r_first, random() AS r_close,
           now() - random() * interval '730 days' AS submitted
    FROM generate_series({FIRST}::bigint, {LAST}::bigint) i
), t AS (
    SELECT *, (ent - 1) * {A} + 1 + (i % {A}) AS acct,
           CASE WHEN r_sev < 0.5 THEN 'minor' WHEN r_sev < 0.85 THEN 'medium' ELSE 'severe' END AS sev,
           CASE WHEN r_sev < 0.5 THEN 24 WHEN r_sev < 0.85 THEN 48 ELSE 235 END AS budget_h
    FROM base
), times AS (
    SELECT *,
           submitted + r_claim * budget_h * 0.3 * interval '1 hour' AS claimed,
           submitted + (r_claim * 0.3 + r_first * 0.3) * budget_h * interval '1 hour' AS first_decided,
           submitted + (r_claim * 0.3 + r_first * 0.3 + r_close * 0.6) * budget_h * interval '1 hour' AS closed
    FROM t
)
-- About 2% of the last 30 days' cases are stuck undecided, so the breach lists have rows.
, flagged AS (SELECT *, (r_stuck < 0.02 AND submitted > now() - interval '30 days') AS stuck FROM times)
SELECT i, ent, acct, sev, budget_h, submitted,
       CASE WHEN claimed <= now() THEN claimed END AS claimed,
       CASE WHEN first_decided <= now() THEN first_decided END AS first_decided,
       CASE WHEN closed <= now() AND NOT stuck THEN closed END AS closed,
       CASE WHEN closed > now() OR stuck THEN
                CASE WHEN claimed > now() OR first_decided > now() THEN 'first_review' ELSE 'second_review' END
            WHEN r_out < 0.70 THEN 'approved' WHEN r_out < 0.95 THEN 'rejected' ELSE 'withdrawn' END AS state,
       2 + i % {R} AS r1, 2 + (i + 7) % {R} AS r2,
       (ARRAY['desktop_logout', 'cannot_be_added', 'adds_restricted', 'requests_fail', 'short_ban', 'permanent_ban', 'entity_ban'])
           [CASE WHEN r_sev < 0.5 THEN 1 + i % 4 WHEN r_sev < 0.85 THEN 5 ELSE 6 + i % 2 END] AS kind
FROM flagged;

INSERT INTO appeals_banincident (id, enterprise_id, account_id, banned_at, kind, reason, notice_text, severity, created_by_id, created_at)
SELECT i, ent, acct, submitted - interval '2 hours', kind, 'user_reports', '', sev, 1000 + ent, submitted - interval '1 hour'
FROM bench_case;

INSERT INTO appeals_appeal (id, reference, enterprise_id, incident_id, statement, contact_phone, state, filed_by_id,
                            first_reviewer_id, second_reviewer_id, resume_state, submitted_at, decided_at, created_at, updated_at,
                            is_emergency)
SELECT i, 'AP-B-' || lpad(i::text, 8, '0'), ent, i, '请求解封', '13700000000', state, 1000 + ent,
       CASE WHEN claimed IS NOT NULL THEN r1 END,
       CASE WHEN first_decided IS NOT NULL AND state <> 'withdrawn' THEN r2 END,
       '', submitted, CASE WHEN state IN ('approved', 'rejected') THEN closed END, submitted - interval '1 hour', coalesce(closed, submitted),
       false
FROM bench_case;

INSERT INTO appeals_appealsla (appeal_id, enterprise_id, severity, state, first_reviewer_id, second_reviewer_id, unit, amount, submitted_at, started_at, running_since,
    spent_clock_seconds, spent_working_seconds, paused_at, paused_seconds, warn_at, due_at, first_claimed_at, first_decided_at,
    closed_at, outcome, met, auto_rule, auto_checked_at, auto_reasons)
SELECT i, ent, sev, state, CASE WHEN claimed IS NOT NULL THEN r1 END,
       CASE WHEN first_decided IS NOT NULL AND state <> 'withdrawn' THEN r2 END,
       CASE WHEN sev = 'severe' THEN 'working_days' ELSE 'clock_hours' END, CASE WHEN sev = 'severe' THEN 7 ELSE budget_h END,
       submitted, submitted, CASE WHEN closed IS NULL THEN submitted END,
       coalesce(extract(epoch FROM closed - submitted), 0)::bigint, coalesce(extract(epoch FROM closed - submitted), 0)::bigint, NULL, 0,
       submitted + budget_h * 0.8 * interval '1 hour', submitted + budget_h * interval '1 hour',
       claimed, first_decided, closed, CASE WHEN closed IS NOT NULL THEN state ELSE '' END,
       CASE WHEN closed IS NOT NULL THEN closed <= submitted + budget_h * interval '1 hour' END,
       CASE WHEN sev = 'minor' AND state = 'approved' AND i % 3 = 0 THEN 'minor-auto-resolution-v1' ELSE '' END, NULL, '[]'::jsonb
FROM bench_case;

INSERT INTO appeals_appealevent (appeal_id, actor_id, action, from_state, to_state, comment, data, created_at)
SELECT i, 1000 + ent, 'submit', 'draft', 'submitted', '', '{{}}'::jsonb, submitted FROM bench_case
UNION ALL SELECT i, NULL, 'accept', 'submitted', 'first_review', '', '{{}}'::jsonb, submitted FROM bench_case
UNION ALL SELECT i, r1, 'claim_first', 'first_review', 'first_review', '', '{{}}', claimed FROM bench_case WHERE claimed IS NOT NULL
UNION ALL SELECT i, r1, CASE WHEN state = 'rejected' THEN 'recommend_reject' ELSE 'recommend_approve' END, 'first_review', 'second_review',
                 '', '{{}}', first_decided FROM bench_case WHERE first_decided IS NOT NULL AND state <> 'withdrawn'
UNION ALL SELECT i, r2, CASE WHEN state = 'rejected' THEN 'reject' ELSE 'approve' END, 'second_review', state, '', '{{}}', closed
                 FROM bench_case WHERE state IN ('approved', 'rejected')
UNION ALL SELECT i, 1000 + ent, 'withdraw', 'first_review', 'withdrawn', '', '{{}}', closed FROM bench_case WHERE state = 'withdrawn';

DROP TABLE bench_case;
"""

SEQUENCES = ["appeals_enterprise", "appeals_user", "appeals_messagingaccount", "appeals_banincident", "appeals_appeal", "appeals_appealevent"]


def run(sql: str, label: str):
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def max_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return cursor.fetchone()[0]


def add_cases(first: int, last: int, *, other_only: bool):
    # Large tenants 1-10 get 1% each; with other_only the batch avoids enterprise 1 entirely.
    ent = (f"2 + ((i * 7919) % {ENTERPRISES - 1})" if other_only else
           f"CASE WHEN i % 100 < 10 THEN 1 + (i % 10) ELSE 11 + ((i * 7919) % {ENTERPRISES - 10}) END")
    sql = CASES_SQL.format(ENT_EXPR=ent, FIRST=first, LAST=last, A=ACCOUNTS_PER_ENTERPRISE, R=REVIEWERS)
    print(f"appeals {first:,}-{last:,}", flush=True)
    # Bulk load: skip the per-row foreign-key triggers (the generator keeps the keys consistent itself).
    run("SET session_replication_role = replica", "foreign-key triggers off for the load")
    for statement in filter(str.strip, sql.split(";\n")):
        run(statement, " ".join(statement.split()[:3]))
    run("SET session_replication_role = origin", "triggers back on")
    resync()


def resync():
    from django.db import connection

    with connection.cursor() as cursor:
        for table in SEQUENCES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        cursor.execute("ANALYZE")


def existing_sizes():
    """--add-other extends a database built earlier: take its enterprise, account and reviewer counts."""
    global ENTERPRISES, ACCOUNTS_PER_ENTERPRISE, REVIEWERS
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM appeals_enterprise), (SELECT count(*) FROM appeals_messagingaccount), "
                       "(SELECT count(*) FROM appeals_user WHERE username LIKE 'bench-reviewer-%%')")
        ENTERPRISES, accounts, REVIEWERS = cursor.fetchone()
    ACCOUNTS_PER_ENTERPRISE = accounts // ENTERPRISES


def main():
    global ENTERPRISES, ACCOUNTS_PER_ENTERPRISE, REVIEWERS
    parser = argparse.ArgumentParser()
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--add-other", type=int, default=0, help="add this many appeals outside enterprise 1 to an existing database")
    parser.add_argument("--enterprises", type=int, default=ENTERPRISES, help="more than 10 (1-10 are the large tenants)")
    parser.add_argument("--accounts-per-enterprise", type=int, default=ACCOUNTS_PER_ENTERPRISE)
    parser.add_argument("--reviewers", type=int, default=REVIEWERS)
    args = parser.parse_args()
    if args.enterprises <= 10:
        parser.error("--enterprises must be more than 10")
    started = time.perf_counter()
    if args.add_other:
        django_setup()
        check_insert_columns(CASES_SQL)
        existing_sizes()
        first = max_id("appeals_appeal") + 1
        add_cases(first, first + args.add_other - 1, other_only=True)
    else:
        ENTERPRISES, ACCOUNTS_PER_ENTERPRISE, REVIEWERS = args.enterprises, args.accounts_per_enterprise, args.reviewers
        print(f"creating database {BENCH_DB} and migrating", flush=True)
        create_database()
        django_setup()
        print(f"  column lists match the models ({check_insert_columns(BASE_SQL + CASES_SQL)} INSERTs checked)")
        run(BASE_SQL.format(E=ENTERPRISES, R=REVIEWERS, A=ACCOUNTS_PER_ENTERPRISE),
            f"{ENTERPRISES} enterprises, {ENTERPRISES * ACCOUNTS_PER_ENTERPRISE:,} accounts, users")
        add_cases(1, args.appeals, other_only=False)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM appeals_appeal), (SELECT count(*) FROM appeals_appealevent), "
                       "pg_size_pretty(pg_database_size(current_database()))")
        appeals, events, size = cursor.fetchone()
    print(f"done in {time.perf_counter() - started:.0f} s: {appeals:,} appeals, {events:,} events, database {size}")


if __name__ == "__main__":
    main()
