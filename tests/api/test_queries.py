"""A list request runs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appeals.core.services import appeals as svc
from tests import builders, factories

pytestmark = pytest.mark.django_db

N_APPEALS = 60


@pytest.fixture
def many_appeals(enterprise, enterprise_admin, first_reviewer, second_reviewer, settings):
    # 60 submissions text one legal representative 60 codes: above the per-phone daily SMS cap.
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": N_APPEALS}
    accounts = [factories.AccountFactory(enterprise=enterprise) for _ in range(3)]
    for i in range(N_APPEALS):
        incident = factories.IncidentFactory(account=accounts[i % 3], created_by=enterprise_admin)
        appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement=f"Appeal {i}",
                                   contact_phone=f"136{i:08d}")
        appeal = builders.submitted_appeal(appeal, enterprise_admin)
        if i % 2:  # half of them carry reviewers, so the reviewer joins are exercised
            appeal = svc.appeal_claim(appeal=appeal, by=first_reviewer)
            appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="approve")
            svc.appeal_claim(appeal=appeal, by=second_reviewer)


def _queries(client, url, page_size) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


def test_list_query_count_is_constant(api_as, many_appeals, enterprise_admin, manager):
    # One fixture build (60 appeals through the services) serves every list x persona.
    counts = {}
    for user in (enterprise_admin, manager):
        client = api_as(user)
        for url in ("/api/v1/appeals/", "/api/v1/incidents/", "/api/v1/accounts/"):
            small, small_rows = _queries(client, url, 1)
            large, large_rows = _queries(client, url, 50)
            assert (small_rows, large_rows) == (1, 3 if "accounts" in url else 50)
            counts[(url, user.username)] = (small, large)
    print(f"\nqueries (page_size=1, page_size=50): {counts}")
    assert all(small == large for small, large in counts.values()), counts


def test_appeal_list_query_count_is_exactly_known(api_as, many_appeals, manager, django_assert_num_queries):
    # token lookup + a COUNT(*) capped at PAGINATION_EXACT_COUNT_LIMIT + the page's ids (by the
    # list's index) + one joined query for those rows
    client = api_as(manager)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/appeals/", {"page_size": 50, "state": ["first_review", "second_review"]})
    assert len(response.json()["results"]) == 50
    assert {row["second_reviewer"] for row in response.json()["results"]} == {None, "reviewer-2"}
