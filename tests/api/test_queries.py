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
    # token lookup + a COUNT(*) capped at PAGINATION_EXACT_COUNT_LIMIT + the page's rows in one
    # joined query (a page near the top: no separate ids query)
    client = api_as(manager)
    with django_assert_num_queries(3):
        response = client.get("/api/v1/appeals/", {"page_size": 50, "state": ["first_review", "second_review"]})
    assert len(response.json()["results"]) == 50
    assert {row["second_reviewer"] for row in response.json()["results"]} == {None, "reviewer-2"}


def test_a_deep_page_reads_ids_first_then_the_same_rows(api_as, many_appeals, manager, settings):
    client = api_as(manager)
    shallow = client.get("/api/v1/appeals/", {"page_size": 10, "page": 3}).json()
    settings.PAGINATION_SINGLE_QUERY_DEPTH = 10  # page 3 (rows 21-30) is now "deep"
    with CaptureQueriesContext(connection) as ctx:
        deep = client.get("/api/v1/appeals/", {"page_size": 10, "page": 3}).json()
    assert deep == shallow and len(deep["results"]) == 10
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert any(sql.startswith('SELECT "appeals_appeal"."id" AS "pk" FROM') and "LIMIT 10 OFFSET 20" in sql for sql in sqls), sqls


def test_a_big_lists_estimate_is_remembered_not_recounted(api_as, many_appeals, manager, settings):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    client = api_as(manager)
    first = client.get("/api/v1/appeals/", {"page_size": 5}).json()
    assert first["count_exact"] is False
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/api/v1/appeals/", {"page_size": 5, "page": 2}).json()
    assert again["count"] == first["count"] and again["count_exact"] is False
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"] or q["sql"].startswith("EXPLAIN")]
    settings.PAGINATION_ESTIMATE_SECONDS = 0  # not remembered: counted again (after the limit changes the key)
    settings.PAGINATION_EXACT_COUNT_LIMIT = 6
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/appeals/", {"page_size": 5})
    assert [q for q in ctx.captured_queries if "COUNT(" in q["sql"]]


def test_the_list_page_is_a_prepared_statement_with_one_plan(api_as, many_appeals, manager):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL prepared statements")
    client = api_as(manager)
    for _ in range(3):
        assert client.get("/api/v1/appeals/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE 'SELECT \"appeals_appeal\".\"id\" AS \"pk\", \"appeals_appeal\".\"reference\"%%'")
        plans = cursor.fetchall()
    assert plans and all(generic >= 3 and custom == 0 for generic, custom in plans), plans
