"""The appeal list's lean path: same rows as the serializer, a count that stops counting, and
an index behind each order the list uses."""

import pytest
from django.db import connection

from appeals.core import selectors
from appeals.core.api.serializers import AppealListOutput, appeal_list_row
from appeals.core.services import appeals as svc
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def several(enterprise, enterprise_admin, submitted_appeal, first_reviewer):
    svc.appeal_claim(appeal=submitted_appeal, by=first_reviewer)
    account = factories.AccountFactory(enterprise=enterprise)
    for i in range(6):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        svc.appeal_create(by=enterprise_admin, incident=incident, statement=f"draft {i}", contact_phone="13812345678")
    return submitted_appeal


def test_lean_rows_equal_the_serializer(several, enterprise_admin, api_as):
    response = api_as(enterprise_admin).get("/api/v1/appeals/", {"page_size": 100})
    assert response.status_code == 200
    body = response.json()
    expected = AppealListOutput(
        selectors.appeals_for(enterprise_admin).order_by("-created_at", "-id"), many=True
    ).data
    assert body["results"] == [dict(row) | {"enterprise": dict(row["enterprise"])} for row in expected]
    assert body["count"] == 7 and body["count_exact"] is True
    claimed = next(r for r in body["results"] if r["reference"] == several.reference)
    assert claimed["first_reviewer"] == "reviewer-1" and claimed["submitted_at"].endswith("+08:00")
    assert appeal_list_row(
        selectors.appeal_list_for(enterprise_admin).values(*selectors.APPEAL_LIST_VALUES).first()
    )["reference"] == body["results"][0]["reference"]


def test_count_above_the_limit_is_an_estimate_and_pages_still_work(several, enterprise_admin, api_as, settings):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 3
    client = api_as(enterprise_admin)
    first = client.get("/api/v1/appeals/", {"page_size": 2}).json()
    assert first["count_exact"] is False and first["count"] >= 4
    seen = [r["reference"] for r in first["results"]]
    page = 2
    while True:
        response = client.get("/api/v1/appeals/", {"page_size": 2, "page": page})
        assert response.status_code in (200, 404)
        rows = response.json().get("results", []) if response.status_code == 200 else []
        if not rows:
            break
        seen += [r["reference"] for r in rows]
        page += 1
    assert len(seen) == len(set(seen)) == 7
    settings.PAGINATION_EXACT_COUNT_LIMIT = 100
    assert client.get("/api/v1/appeals/", {"page_size": 2}).json() | {"results": None} == {
        "count": 7, "count_exact": True, "next": first["next"], "previous": None, "results": None,
    }


@pytest.mark.parametrize("who, extra, index", [
    ("desk", {}, "appeal_desk_list"),
    ("admin", {}, "appeal_tenant_list"),
    ("desk", {"state": "first_review"}, "appeal_state_list"),
])
def test_each_list_order_has_its_index(several, enterprise_admin, manager, who, extra, index):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans only")
    user = manager if who == "desk" else enterprise_admin
    qs = selectors.appeal_list_for(user).filter(**extra).values(*selectors.APPEAL_LIST_VALUES)[:20]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_state_labels_follow_each_requests_language(several, enterprise_admin, api_as):
    """Labels are kept per language and process: a Chinese, an English, then a Chinese request
    each get their own language's words."""
    from django.utils import translation

    from appeals.core.models import AppealState

    client = api_as(enterprise_admin)
    for language in ("zh-hans", "en", "zh-hans"):
        rows = client.get("/api/v1/appeals/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
        with translation.override(language):
            expected = {r["reference"]: str(AppealState(r["state"]).label) for r in rows}
        assert {r["reference"]: r["state_display"] for r in rows} == expected
        assert len(set(expected.values())) == 2  # drafts and the claimed case
    zh = client.get("/api/v1/appeals/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    en = client.get("/api/v1/appeals/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert [r["state_display"] for r in zh] != [r["state_display"] for r in en]
