"""Surge API: who may read and act, acknowledge/resolve, emergency state, settings, schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from appeals.models import AuditEvent, SurgeSettings
from appeals.surge import services as surge
from tests.surge.conftest import NOW

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alert(traffic):
    verdict = surge.surge_rule(count=30, history=[2] * 7, floor=10, factor=3.0)
    return surge.surge_alert_open(slice_=("kind", "entity_ban"), verdict=verdict, policy=surge.surge_policy(), now=NOW)


def test_desk_lists_and_reads_alerts_applicants_cannot(alert, first_reviewer, enterprise_admin):
    desk = client_for(first_reviewer)
    listed = desk.get("/api/v1/surge/alerts/").json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert (row["dimension"], row["value"], row["count"], row["usual"], row["ratio"], row["state"]) == (
        "kind", "entity_ban", 30, 2.0, 15.0, "open",
    )
    assert row["slice_label"] == "Incident kind: Whole enterprise entity banned"
    assert desk.get("/api/v1/surge/alerts/?state=resolved").json()["count"] == 0
    bad = desk.get("/api/v1/surge/alerts/?state=nonsense")
    assert bad.status_code == 400 and "state" in bad.json()["fields"]

    detail = desk.get(f"/api/v1/surge/alerts/{alert.pk}/").json()
    assert detail["volume"]["bucket_minutes"] >= 1 and detail["volume"]["points"]
    assert detail["notifications"] == []
    assert desk.get("/api/v1/surge/alerts/999999/").status_code == 404

    applicant = client_for(enterprise_admin)
    assert applicant.get("/api/v1/surge/alerts/").status_code == 403
    assert applicant.get(f"/api/v1/surge/alerts/{alert.pk}/").status_code == 403


def test_manager_acknowledges_then_resolves_each_audited(alert, manager, first_reviewer):
    assert client_for(first_reviewer).post(f"/api/v1/surge/alerts/{alert.pk}/acknowledge/").status_code == 403
    api = client_for(manager)
    acked = api.post(f"/api/v1/surge/alerts/{alert.pk}/acknowledge/", {"comment": "On it"}, format="json")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "manager"
    again = api.post(f"/api/v1/surge/alerts/{alert.pk}/acknowledge/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    resolved = api.post(f"/api/v1/surge/alerts/{alert.pk}/resolve/", {"comment": "Wave over"}, format="json")
    assert resolved.json()["state"] == "resolved" and resolved.json()["resolution"] == "manual"
    assert api.post(f"/api/v1/surge/alerts/{alert.pk}/resolve/").status_code == 409
    actions = list(AuditEvent.objects.filter(target_type="appeals.surgealert").order_by("position").values_list("action", "actor_username"))
    assert actions == [("surge.open", ""), ("surge.acknowledge", "manager"), ("surge.resolve.manual", "manager")]


def test_emergency_state_for_applicants_shows_the_hotline_but_not_the_slice(alert, enterprise_admin, first_reviewer, manager):
    body = client_for(enterprise_admin).get("/api/v1/surge/emergency/").json()
    assert body["active"] is True and body["hotline"] == "400-999-0000" and body["since"]
    assert body["alerts"] == []
    assert len(client_for(first_reviewer).get("/api/v1/surge/emergency/").json()["alerts"]) == 1
    surge.surge_alert_resolve(alert=alert, by=manager)
    assert client_for(enterprise_admin).get("/api/v1/surge/emergency/").json()["active"] is False
    assert APIClient().get("/api/v1/surge/emergency/").status_code in (401, 403)


def test_manager_changes_the_thresholds_with_field_errors_for_bad_input(manager, first_reviewer):
    api = client_for(manager)
    assert api.get("/api/v1/surge/settings/").json() == {
        "window_minutes": 10, "floor": 10, "factor": 3.0, "history_days": 7, "quiet_windows": 3, "hotline": "400-999-0000",
    }
    assert not SurgeSettings.objects.exists()  # defaults come from settings.SURGE
    bad = api.patch("/api/v1/surge/settings/", {"factor": 0.5, "history_days": 90}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"factor", "history_days"}
    ok = api.patch("/api/v1/surge/settings/", {"floor": 25, "hotline": "400-111-2222"}, format="json")
    assert ok.status_code == 200 and ok.json()["floor"] == 25 and ok.json()["window_minutes"] == 10
    assert surge.surge_policy().floor == 25 and surge.surge_policy().hotline == "400-111-2222"
    event = AuditEvent.objects.get(action="surge.settings")
    assert event.before["floor"] == 10 and event.after["floor"] == 25
    assert client_for(first_reviewer).patch("/api/v1/surge/settings/", {"floor": 1}, format="json").status_code == 403
    assert client_for(first_reviewer).get("/api/v1/surge/settings/").status_code == 403


def test_endpoints_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for p in ("/api/v1/surge/alerts/", "/api/v1/surge/alerts/{id}/", "/api/v1/surge/alerts/{id}/acknowledge/",
              "/api/v1/surge/alerts/{id}/resolve/", "/api/v1/surge/emergency/", "/api/v1/surge/settings/"):
        assert p in paths, p
    assert {"get", "put", "patch"} <= set(paths["/api/v1/surge/settings/"])
    assert "EmergencyState" in schema["components"]["schemas"]


def test_alert_list_runs_a_constant_number_of_queries(manager, django_assert_max_num_queries):
    from tests import factories

    policy = surge.surge_policy()
    verdict = surge.surge_rule(count=30, history=[2] * 7, floor=10, factor=3.0)
    for _ in range(8):
        ent = factories.EnterpriseFactory()
        surge.surge_alert_open(slice_=("enterprise", str(ent.pk)), verdict=verdict, policy=policy, now=NOW)
    api = client_for(manager)
    with django_assert_max_num_queries(4):  # count, page, enterprise names (+ auth)
        body = api.get("/api/v1/surge/alerts/").json()
    assert body["count"] == 8 and all(r["slice_label"].startswith("Enterprise: Enterprise") for r in body["results"])
