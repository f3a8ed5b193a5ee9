"""Benchmark: GET /api/v1/appeals/ latency and query count by page size.

Builds a throwaway PostgreSQL database (TEST_DB_NAME, default bench_appeals_api) with
N appeals filed and moved through the services, then times the list endpoint as a
reviewer and as an enterprise admin. Prints medians, the page_size=100 / page_size=1
ratio, and the queries per request (constant by design: auth, COUNT, one joined page).

    TEST_DB_NAME=bench_appeals_api .venv/bin/python benchmarks/api_list.py [N] [--repeat 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("TEST_DB_NAME", "bench_appeals_api")

import django  # noqa: E402

django.setup()

from intake import waive_intake_guards  # noqa: E402

# The drafts carry no evidence and no proofs; the list endpoint is what is measured.
waive_intake_guards()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from knox.models import AuthToken  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("n", nargs="?", type=int, default=300, help="appeals seeded")
parser.add_argument("--repeat", type=int, default=30, help="timed requests per page size")
ARGS = parser.parse_args()
N, REPEAT = ARGS.n, ARGS.repeat


def seed():
    from appeals.core.services import appeals as svc
    from tests import factories

    enterprise = factories.EnterpriseFactory()
    admin = factories.UserFactory(username="bench-admin", enterprise=enterprise)
    r1 = factories.UserFactory(username="bench-r1", is_first_reviewer=True, is_second_reviewer=True)
    r2 = factories.UserFactory(username="bench-r2", is_first_reviewer=True, is_second_reviewer=True)
    accounts = [factories.AccountFactory(enterprise=enterprise) for _ in range(10)]
    for i in range(N):
        incident = factories.IncidentFactory(account=accounts[i % 10], created_by=admin)
        appeal = svc.appeal_create(by=admin, incident=incident, statement=f"s{i}", contact_phone=f"13{i:09d}")
        appeal = svc.appeal_submit(appeal=appeal, by=admin)
        if i % 2:
            appeal = svc.appeal_claim(appeal=appeal, by=r1)
            appeal = svc.appeal_first_review(appeal=appeal, by=r1, decision="approve")
            svc.appeal_claim(appeal=appeal, by=r2)
    return admin, r1


def measure(user, page_size):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    client.get("/api/v1/appeals/", {"page_size": page_size})  # warm up
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get("/api/v1/appeals/", {"page_size": page_size})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/appeals/", {"page_size": page_size})
    return statistics.median(times) * 1000, len(ctx.captured_queries)


def main():
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        admin, reviewer = seed()
        print(f"seeded {N} appeals in {time.perf_counter() - started:.1f} s")
        for label, user in (("reviewer", reviewer), ("enterprise admin", admin)):
            results = {size: measure(user, size) for size in (1, 20, 50, 100)}
            for size, (ms, queries) in results.items():
                print(f"{label:16s} page_size={size:<3d} median {ms:7.2f} ms  queries {queries}")
            print(f"{label:16s} ratio page_size=100 / page_size=1: {results[100][0] / results[1][0]:.2f}x time, "
                  f"{results[100][1]} vs {results[1][1]} queries")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
