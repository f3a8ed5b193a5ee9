"""Batch review API: the whole round trip, documented errors (400, 403, 404, 409), tenancy."""

import pytest

from appeals.batch import services
from appeals.core.models import Appeal, AppealState
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def _refs(appeals):
    return [a.reference for a in appeals]


def test_round_trip_proposal_group_recommend_confirm(wave, first_reviewer, second_reviewer):
    r1, r2 = client_for(first_reviewer), client_for(second_reviewer)
    proposals = r1.get("/api/v1/batch/proposals/").json()
    assert len(proposals) == 1 and sorted(proposals[0]["references"]) == sorted(_refs(wave))

    created = r1.post("/api/v1/batch/groups/", {"references": proposals[0]["references"]}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert len(created.json()["members"]) == len(wave)

    recommended = r1.post(f"/api/v1/batch/groups/{pk}/recommend/", {
        "recommendation": "approve", "outcome_code": "restored", "comment": "平台误封", "exclude": [wave[0].reference],
    }, format="json")
    assert recommended.status_code == 202, recommended.json()
    assert recommended.json()["state"] == "recommending"
    progress = r1.get(f"/api/v1/batch/groups/{pk}/progress/").json()
    assert progress["total"] == len(wave) - 1 and progress["running"] is True

    services.batch_run(group_id=pk)  # the task's body, in-process (the worker test runs the real task)
    assert r2.post(f"/api/v1/batch/groups/{pk}/confirm/").status_code == 202
    services.batch_run(group_id=pk)
    detail = r2.get(f"/api/v1/batch/groups/{pk}/").json()
    assert detail["state"] == "done" and detail["progress"]["done"] == len(wave) - 1
    statuses = {m["reference"]: m["status"] for m in detail["members"]}
    assert statuses.pop(wave[0].reference) == "excluded" and set(statuses.values()) == {"decided"}
    assert Appeal.objects.get(pk=wave[1].pk).state == AppealState.APPROVED


def test_documented_errors(wave, first_reviewer, second_reviewer, enterprise_admin):
    r1 = client_for(first_reviewer)
    bad = r1.post("/api/v1/batch/groups/", {"references": "AP-1"}, format="json")
    assert bad.status_code == 400 and "references" in bad.json()["fields"]
    unknown = r1.post("/api/v1/batch/groups/", {"references": ["AP-2000-000001", "AP-2000-000002"]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["fields"]["references"]
    pk = r1.post("/api/v1/batch/groups/", {"references": _refs(wave)}, format="json").json()["id"]
    assert r1.post("/api/v1/batch/groups/", {"references": _refs(wave)}, format="json").json()["code"] == "already_grouped"
    mismatch = r1.post(f"/api/v1/batch/groups/{pk}/recommend/", {"recommendation": "approve", "outcome_code": "refused_permanent_ban",
                                                                  "comment": "x"}, format="json")
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "outcome_code_mismatch"
    missing = r1.post(f"/api/v1/batch/groups/{pk}/recommend/", {"recommendation": "maybe"}, format="json")
    assert missing.status_code == 400 and {"recommendation", "outcome_code", "comment"} <= set(missing.json()["fields"])
    assert r1.post(f"/api/v1/batch/groups/{pk}/confirm/").json()["code"] == "group_state"
    r1.post(f"/api/v1/batch/groups/{pk}/recommend/", {"recommendation": "approve", "outcome_code": "restored", "comment": "x"},
            format="json")
    services.batch_run(group_id=pk)
    own = r1.post(f"/api/v1/batch/groups/{pk}/confirm/")
    assert own.status_code == 409 and own.json()["code"] == "separation_of_duties"
    assert r1.get("/api/v1/batch/groups/999999/").status_code == 404
    assert client_for(None).get("/api/v1/batch/proposals/").status_code == 401
    admin = client_for(enterprise_admin)
    for url in ("/api/v1/batch/proposals/", "/api/v1/batch/groups/", f"/api/v1/batch/groups/{pk}/",
                f"/api/v1/batch/groups/{pk}/progress/"):
        assert admin.get(url).status_code == 403, url
    assert admin.post(f"/api/v1/batch/groups/{pk}/confirm/").status_code == 403


def test_schema_documents_the_batch_errors(first_reviewer):
    schema = client_for(first_reviewer).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    confirm = paths["/api/v1/batch/groups/{id}/confirm/"]["post"]["responses"]
    assert {"202", "403", "404", "409"} <= set(confirm)
    assert "separation_of_duties" in confirm["409"]["description"]
