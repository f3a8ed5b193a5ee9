"""The hot API reads compiled once per process (appeals.shared.db.prepared_values' memo): the
token lookup and the plain appeal list. A kept statement must never carry one request's token,
tenant or page into another's."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from appeals.core.models import Appeal
from appeals.core.services import appeals as svc
from appeals.shared import db
from tests import factories

pytestmark = pytest.mark.django_db

TOKEN_MEMO = ("knox-token-by-key",)


@pytest.fixture(autouse=True)
def no_kept_statements():
    db._STATEMENTS.clear()
    yield
    db._STATEMENTS.clear()


def token_client(user) -> tuple[APIClient, str]:
    _instance, key = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def references(client, **params) -> set[str]:
    response = client.get("/api/v1/appeals/", params)
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


def file_appeal(enterprise, admin):
    account = factories.AccountFactory(enterprise=enterprise)
    incident = factories.IncidentFactory(account=account, created_by=admin)
    return svc.appeal_create(by=admin, incident=incident, statement="请恢复账号", contact_phone="13812345678")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are kept on PostgreSQL only")
def test_each_token_finds_its_own_user_through_the_kept_statement(enterprise, other_enterprise, enterprise_admin, other_admin):
    mine, theirs = file_appeal(enterprise, enterprise_admin), file_appeal(other_enterprise, other_admin)
    client_a, key_a = token_client(enterprise_admin)
    client_b, _ = token_client(other_admin)

    assert references(client_a) == {mine.reference}
    sql, kept_params = db._STATEMENTS[TOKEN_MEMO]
    assert kept_params == (key_a[:15],) and "knox_authtoken" in sql
    # The same statement, another key: the other admin, and only their enterprise's case.
    assert references(client_b) == {theirs.reference}
    assert references(client_a) == {mine.reference}
    assert len([k for k in db._STATEMENTS if k == TOKEN_MEMO]) == 1

    # Revoked while its statement is kept: refused at once.
    AuthToken.objects.filter(token_key=key_a[:15]).delete()
    assert client_a.get("/api/v1/appeals/").status_code == 401
    client_x = APIClient()
    client_x.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert client_x.get("/api/v1/appeals/").status_code == 401


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are kept on PostgreSQL only")
def test_plain_list_statement_is_kept_per_tenant_scope_and_page(enterprise, other_enterprise, enterprise_admin, other_admin,
                                                               first_reviewer):
    mine = {file_appeal(enterprise, enterprise_admin).reference for _ in range(3)}
    theirs = {file_appeal(other_enterprise, other_admin).reference for _ in range(2)}
    a, _ = token_client(enterprise_admin)
    b, _ = token_client(other_admin)
    desk, _ = token_client(first_reviewer)

    for _ in range(2):  # the second round reads every statement from the memo
        assert references(a) == mine
        assert references(b) == theirs
        assert references(desk) == set()  # drafts: not the desk's
        assert references(a, page_size=2) | references(a, page_size=2, page=2) == mine
    kept = {key for key in db._STATEMENTS if key[0] == "appeal-list"}
    # A last page is cut to the exact count (3 and 2 rows here); the desk's empty list reads nothing.
    assert kept == {
        ("appeal-list", ("enterprise", enterprise.pk), 0, 3),
        ("appeal-list", ("enterprise", other_enterprise.pk), 0, 2),
        ("appeal-list", ("enterprise", enterprise.pk), 0, 2),
        ("appeal-list", ("enterprise", enterprise.pk), 2, 3),
    }

    # A filtered or searched list is compiled per request: nothing more is kept.
    assert references(a, state="draft") == mine
    assert references(a, search="恢复") <= mine
    assert {key for key in db._STATEMENTS if key[0] == "appeal-list"} == kept


def test_statement_memo_keeps_the_most_recent(monkeypatch):
    monkeypatch.setattr(db, "STATEMENTS_KEPT", 3)
    built = []

    class Query:
        def __init__(self, n):
            self.n = n

        def sql_with_params(self):
            built.append(self.n)
            return f"SELECT {self.n}", [self.n]

    class Built:
        def __init__(self, n):
            self.query = Query(n)

    for n in (1, 2, 3, 1, 4):  # 1 used again before 4 arrives: 2 is the one dropped
        assert db._compiled(lambda n=n: Built(n), ("k", n)) == (f"SELECT {n}", (n,))
    assert built == [1, 2, 3, 4]
    assert list(db._STATEMENTS) == [("k", 3), ("k", 1), ("k", 4)]


def test_redis_cache_keeps_one_client_per_pool(settings):
    if not settings.REDIS_URL:
        pytest.skip("the Redis cache is configured with REDIS_URL")
    client = cache._cache.get_client()
    assert client is cache._cache.get_client() and client is cache._cache.get_client(write=True)
    cache.set("kept-client", {"n": 1}, 30)
    assert cache.get("kept-client") == {"n": 1}
    assert client.ttl(cache.make_and_validate_key("kept-client")) > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only")
def test_prepared_reads_give_the_orms_datetimes_whatever_the_sessions_zone(enterprise, enterprise_admin):
    """prepared_values reads timestamptz with psycopg's own loader when the session's zone is
    UTC, as Django keeps it; under any other session zone it reads them with Django's loader.
    Either way the values are what the ORM reads on the same session: aware, tagged UTC."""
    appeal = file_appeal(enterprise, enterprise_admin)
    names = ("created_at", "updated_at")
    seen = {}
    for zone in ("UTC", "Asia/Shanghai"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [zone])
        try:
            (row,) = db.prepared_values(Appeal.objects.filter(pk=appeal.pk).values(*names), names)
            orm = Appeal.objects.values(*names).get(pk=appeal.pk)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('TimeZone', 'UTC', false)")
        assert row == orm, zone
        assert all(value.tzinfo is dt.UTC for value in row.values()), (zone, row)
        seen[zone] = row
    assert seen["UTC"] == {"created_at": appeal.created_at, "updated_at": appeal.updated_at}


def test_a_kept_list_page_is_paged_without_building_its_queryset():
    """CappedCountPaginator takes a callable that builds the queryset: with the count's estimate
    remembered under its key, a page near the top never calls it; a deep page's rows do, once."""
    from appeals.shared import pagination

    built = []

    def queryset():
        built.append(1)
        return list(range(100_000))  # a long list standing in for the ids' queryset

    key = ("test-list", "scope-1")
    pagination._remember_estimate((1000, "key", key), 5000)
    try:
        paginator = pagination.CappedCountPaginator(queryset, 20, count_key=key)
        page = paginator.page(3)
        assert (page.bottom, page.top, paginator.count, paginator.count_exact) == (40, 60, 5000, False)
        assert built == []
        assert list(page.object_list) == list(range(40, 60)) and built == [1]
        # Without a remembered estimate, the count needs the queryset: built then, and once.
        fresh = pagination.CappedCountPaginator(queryset, 20, count_key=("test-list", "scope-2"))
        assert fresh.count == 100_000 and fresh.count_exact and len(fresh.page(2).object_list) == 20
        assert built == [1, 1]
    finally:
        pagination._estimates.clear()
