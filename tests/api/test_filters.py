"""List filters and pagination of GET /api/v1/appeals/."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from appeals.core.services import appeals as svc
from appeals.models import Appeal
from tests import builders, factories

pytestmark = pytest.mark.django_db


def _file(admin, *, kind="short_ban", severity="medium", platform="wecom", phone, submit=True):
    account = factories.AccountFactory(enterprise=admin.enterprise, platform=platform)
    incident = factories.IncidentFactory(account=account, created_by=admin, kind=kind, severity=severity)
    appeal = svc.appeal_create(by=admin, incident=incident, statement="Please.", contact_phone=phone)
    return builders.submitted_appeal(appeal, admin) if submit else appeal


@pytest.fixture
def spread(enterprise_admin, other_admin, first_reviewer):
    a = _file(enterprise_admin, phone="13800000001")
    b = _file(enterprise_admin, kind="entity_ban", severity="severe", platform="dingtalk", phone="13800000002")
    b = svc.appeal_claim(appeal=b, by=first_reviewer)
    b = svc.appeal_first_review(appeal=b, by=first_reviewer, decision="approve")
    c = _file(enterprise_admin, kind="desktop_logout", severity="minor", phone="13800000003", submit=False)
    d = _file(other_admin, kind="entity_ban", severity="severe", platform="feishu", phone="13800000004")
    # Arrange submission dates (test data only): a was submitted ten days ago, b and d today.
    tz = timezone.get_current_timezone()
    Appeal.objects.filter(pk=a.pk).update(submitted_at=datetime.combine(timezone.localdate() - timedelta(days=10),
                                                                        datetime.min.time(), tz) + timedelta(hours=9))
    return {"a": a.reference, "b": b.reference, "c": c.reference, "d": d.reference}


def _refs(client, **params):
    r = client.get("/api/v1/appeals/", params)
    assert r.status_code == 200, r.json()
    return {row["reference"] for row in r.json()["results"]}


def test_filters_for_the_desk(api_as, manager, spread, other_admin):
    client = api_as(manager)
    a, b, d = spread["a"], spread["b"], spread["d"]
    assert _refs(client) == {a, b, d}  # drafts are not the desk's business
    assert _refs(client, state="second_review") == {b}
    assert _refs(client, state=["first_review", "second_review"]) == {a, b, d}
    assert _refs(client, platform="dingtalk") == {b}
    assert _refs(client, incident_kind="entity_ban") == {b, d}
    assert _refs(client, severity="severe") == {b, d}
    assert _refs(client, enterprise=other_admin.enterprise_id) == {d}
    today = timezone.localdate()
    assert _refs(client, submitted_from=str(today)) == {b, d}
    assert _refs(client, submitted_to=str(today - timedelta(days=1))) == {a}
    assert _refs(client, submitted_from=str(today - timedelta(days=10)), submitted_to=str(today - timedelta(days=10))) == {a}
    assert _refs(client, severity="severe", platform="feishu") == {d}


def test_filters_for_an_enterprise_admin_stay_inside_the_enterprise(api_as, enterprise_admin, other_admin, spread):
    client = api_as(enterprise_admin)
    assert _refs(client) == {spread["a"], spread["b"], spread["c"]}
    assert _refs(client, state="draft") == {spread["c"]}
    assert _refs(client, severity="severe") == {spread["b"]}
    r = client.get("/api/v1/appeals/", {"enterprise": other_admin.enterprise_id})
    assert r.status_code == 400 and "enterprise" in r.json()["fields"]


def test_pagination(api_as, manager, spread):
    client = api_as(manager)
    r = client.get("/api/v1/appeals/", {"page_size": 2})
    body = r.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 1
    assert {row["reference"] for row in body["results"] + second["results"]} == {spread["a"], spread["b"], spread["d"]}
    r = client.get("/api/v1/appeals/", {"page": 99})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    # newest first
    assert [row["reference"] for row in client.get("/api/v1/appeals/").json()["results"]][0] == spread["d"]
