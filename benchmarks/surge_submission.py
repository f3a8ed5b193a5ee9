"""Added time of the per-submission surge check: submit with it vs without it, interleaved in one run.

The policy is set so that every check takes its most expensive path (count above the floor,
so the week of history is read) without ever opening an alert.

    .venv/bin/python benchmarks/surge_submission.py [N]
"""

import argparse
import statistics
import time

from surge_common import clear_surge_redis, median_ms, setup_django

parser = argparse.ArgumentParser()
parser.add_argument("n", nargs="?", type=int, default=300, help="submissions each way")
N = parser.parse_args().n

# The intake guards (verification proofs, evidence checklist) are off: both sides of the
# comparison would pay them alike, and the drafts here carry no evidence.
setup_django(SURGE_FLOOR=1, SURGE_FACTOR=1e9, VERIFICATION_REQUIRED="false", EVIDENCE_ENFORCE_COMPLETENESS="false")

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appeals.core import workflow  # noqa: E402
from appeals.core.services import appeals as appeal_services  # noqa: E402
from appeals.models import Appeal, SurgeAlert  # noqa: E402
from appeals.surge.counters import RedisCounts  # noqa: E402
from appeals.surge.policy import surge_policy  # noqa: E402
from appeals.surge.services import on_submission, surge_check_submission  # noqa: E402
from appeals.surge.slices import slices_of  # noqa: E402
from tests import factories  # noqa: E402


def make_drafts(n, run):
    enterprise = factories.EnterpriseFactory(credit_code=factories.make_credit_code(700000 + run), name=f"Bench {run}")
    admin = factories.UserFactory(username=f"bench-admin-{run}", enterprise=enterprise)
    account = factories.AccountFactory(enterprise=enterprise, account_id=f"bench-{run}")
    drafts = []
    for i in range(n):
        incident = factories.IncidentFactory(account=account, created_by=admin)
        drafts.append(
            appeal_services.appeal_create(by=admin, incident=incident, statement="bench", contact_phone=f"139{run % 100:02d}{i:06d}")
        )
    return admin, drafts


def seed_history(enterprise_id):
    """One appeal a minute around this time of day on each of the previous 7 days, so the
    usual level is non-zero and factor x usual is out of reach."""
    from datetime import timedelta

    counts, policy = RedisCounts(), surge_policy()
    counts.ensure_built(now=timezone.now())
    slices = slices_of(platform="wecom", kind="short_ban", enterprise_id=enterprise_id)
    now = timezone.now()
    for day in range(1, policy.history_days + 1):
        for minute in range(-30, 90):
            counts.record(slices, now - timedelta(days=day, minutes=minute), policy)


def main():
    clear_surge_redis()
    with connection.cursor() as cursor:  # the benchmark database only
        cursor.execute(f"TRUNCATE {Appeal._meta.db_table}, {SurgeAlert._meta.db_table} CASCADE")
    run = int(time.time()) % 100000
    admin, drafts = make_drafts(2 * N, run)
    seed_history(drafts[0].enterprise_id)
    with_check, without_check = [], []
    for i, draft in enumerate(drafts):
        checked = i % 2 == 0
        if not checked:
            workflow._listeners.remove(on_submission)
        start = time.perf_counter()
        appeal_services.appeal_submit(appeal=draft, by=admin)
        elapsed = time.perf_counter() - start
        if not checked:
            workflow.register_listener(on_submission)
        (with_check if checked else without_check).append(elapsed)

    slices = slices_of(platform="wecom", kind="short_ban", enterprise_id=drafts[0].enterprise_id)
    alone = []
    for _ in range(N):
        start = time.perf_counter()
        surge_check_submission(slices=slices, at=timezone.now())
        alone.append(time.perf_counter() - start)

    w, wo = median_ms(with_check), median_ms(without_check)
    print(f"surge per-submission check, {N} submissions each way, interleaved, PostgreSQL {connection.pg_version} + Redis")
    print(f"  submit without the check : median {wo:7.2f} ms  (p90 {statistics.quantiles(without_check, n=10)[-1] * 1000:.2f} ms)")
    print(f"  submit with the check    : median {w:7.2f} ms  (p90 {statistics.quantiles(with_check, n=10)[-1] * 1000:.2f} ms)")
    print(f"  added by the check       : median {w - wo:7.2f} ms  (ratio {w / wo:.2f}x)")
    print(f"  the check alone (count + rule on 4 slices, 7 days of history): median {median_ms(alone):.2f} ms")
    assert not SurgeAlert.objects.exists(), "the benchmark policy must never open an alert"


if __name__ == "__main__":
    main()
