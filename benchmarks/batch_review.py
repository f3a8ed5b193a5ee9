"""Benchmark: batch review of one ban wave. N alike appeals (one incident kind and reason, bans
within the surge window, 20 enterprises) are filed and submitted through the services into first
review; then one group is proposed, created, recommended by one reviewer and confirmed by another,
each step's background run executed in this process (the task's body: services.batch_run).
Prints the time and the queries of each step, per case for the two runs.

Builds a throwaway PostgreSQL database (TEST_DB_NAME, default bench_appeals_batch), dropped at the end.

    TEST_DB_NAME=bench_appeals_batch .venv/bin/python benchmarks/batch_review.py [--appeals 1000]
"""

import argparse
import os
import sys
import time
from collections import Counter, deque
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("TEST_DB_NAME", "bench_appeals_batch")
# No worker here: what the services publish (the batch run, the outbox's deliveries) goes to an
# in-process broker and is dropped; the run's body is called directly below.
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from intake import waive_intake_guards  # noqa: E402

# The drafts carry no evidence and no proofs; review is what is measured.
waive_intake_guards()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--appeals", type=int, default=1000, help="appeals in the wave (one group)")
parser.add_argument("--enterprises", type=int, default=20)
ARGS = parser.parse_args()
N = ARGS.appeals


def seed():
    from appeals.core.services import appeals as svc
    from tests import factories

    r1 = factories.UserFactory(username="bench-r1", is_first_reviewer=True, is_second_reviewer=True)
    r2 = factories.UserFactory(username="bench-r2", is_first_reviewer=True, is_second_reviewer=True)
    enterprises = [factories.EnterpriseFactory() for _ in range(ARGS.enterprises)]
    admins = [factories.UserFactory(username=f"bench-admin-{e.pk}", enterprise=e) for e in enterprises]
    accounts = [factories.AccountFactory(enterprise=e) for e in enterprises]
    start = timezone.now() - timedelta(minutes=30)
    step = timedelta(minutes=5) / max(N, 1)  # the whole wave banned within five minutes
    for i in range(N):
        k = i % len(enterprises)
        incident = factories.IncidentFactory(account=accounts[k], created_by=admins[k], kind="short_ban",
                                             reason="user_reports", banned_at=start + i * step)
        appeal = svc.appeal_create(by=admins[k], incident=incident, statement=f"误封 {i}", contact_phone=f"13{i:09d}")
        svc.appeal_submit(appeal=appeal, by=admins[k])
    return r1, r2


def _keep_every_query():
    """CaptureQueriesContext reads connection.queries, which keeps the last 9,000 by default: a run
    of 1,000 cases makes tens of thousands, all of which are counted here."""
    connection.queries_limit = 10_000_000
    connection.queries_log = deque(maxlen=connection.queries_limit)


def timed(label, fn, *, per_case=None):
    _keep_every_query()
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    line = f"{label:28s} {elapsed:8.2f} s  queries {len(ctx.captured_queries):7d}"
    if per_case:
        line += f"  | per case {elapsed / per_case * 1000:7.2f} ms, {len(ctx.captured_queries) / per_case:6.1f} queries"
    print(line, flush=True)
    return result, ctx


def top_queries(ctx, n=8):
    shapes = Counter()
    for q in ctx.captured_queries:
        sql = q["sql"]
        shapes[sql.split(" WHERE ")[0][:110]] += 1
    for shape, count in shapes.most_common(n):
        print(f"    {count:6d}  {shape}")


def main():
    from appeals.batch import selectors, services
    from appeals.core.models import Appeal, AppealEvent
    from appeals.notifications.models import Message

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        with override_settings(BATCH={**settings.BATCH, "MAX_GROUP_SIZE": max(N, 2)}):
            r1, r2 = seed()
            print(f"seeded {N} appeals in first review in {time.perf_counter() - started:.1f} s")
            proposals, _ = timed("propose", lambda: selectors.batch_proposals(user=r1))
            assert len(proposals) == 1 and proposals[0].size == N, [p.size for p in proposals]
            group, _ = timed("create group", lambda: services.batch_group_create(by=r1, references=proposals[0].references))
            timed("recommend (request)", lambda: services.batch_recommend(
                by=r1, group=group, recommendation="approve", outcome_code="restored", comment="平台误封，批量恢复。"))
            group, ctx1 = timed("recommend run", lambda: services.batch_run(group_id=group.pk), per_case=N)
            top_queries(ctx1)
            timed("confirm (request)", lambda: services.batch_confirm(by=r2, group=group))
            group, ctx2 = timed("confirm run", lambda: services.batch_run(group_id=group.pk), per_case=N)
            top_queries(ctx2)
            total = sum(float(q["time"]) for q in ctx1.captured_queries + ctx2.captured_queries)
            print(f"decided {group.job_done} of {N} (skipped {group.job_skipped}); group {group.state}; "
                  f"SQL time in the two runs {total:.1f} s")
            assert Appeal.objects.filter(state="approved").count() == N
            print(f"per case: {AppealEvent.objects.count() / N:.1f} timeline events, "
                  f"{Message.objects.filter(template='appeal_decided').count() / N:.1f} decision notices")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
