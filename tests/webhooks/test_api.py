"""The endpoint API: scoped to the enterprise (managers: platform-wide), the secret shown once
and encrypted at rest, every change audited without the secret, field-level 400s."""

import pytest
from django.db import connection

from appeals.audit.models import AuditEvent
from appeals.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"


def _create(client, url, **extra):
    return client.post(ENDPOINTS, {"url": url, **extra}, format="json")


def test_enterprise_admin_registers_an_endpoint_and_sees_its_secret_once(api_as, enterprise_admin, receivers):
    client = api_as(enterprise_admin)
    receiver = receivers()
    response = _create(client, receiver.url, description="CRM", events=["appeal.decided"])
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and response["Cache-Control"] == "no-store"
    assert body["scope"] == "enterprise" and body["enterprise"] == enterprise_admin.enterprise_id
    assert body["events"] == ["appeal.decided"]

    # Never again: not on the list, not on the detail, not after an update.
    pk = body["id"]
    for response in (client.get(ENDPOINTS), client.get(f"{ENDPOINTS}{pk}/"),
                     client.patch(f"{ENDPOINTS}{pk}/", {"description": "CRM (prod)"}, format="json")):
        assert response.status_code == 200
        assert secret not in response.content.decode() and "secret\"" not in response.content.decode()

    # Encrypted at rest: the column holds a Fernet token, the model gives the secret back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM appeals_webhookendpoint WHERE id = %s", [pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored and stored.startswith("gAAAA")
    assert WebhookEndpoint.objects.get(pk=pk).secret == secret
    assert "***" in repr(WebhookEndpoint.objects.get(pk=pk).secret)

    # Audited, without the secret.
    actions = list(AuditEvent.objects.filter(target_type="appeals.webhookendpoint").values_list("action", flat=True))
    assert actions == ["webhook.endpoint_create", "webhook.endpoint_update"]
    for event in AuditEvent.objects.filter(target_type="appeals.webhookendpoint"):
        assert secret not in str(event.before) + str(event.after)


def test_rotation_returns_a_new_secret_once_and_audits_it(api_as, enterprise_admin, receivers):
    client = api_as(enterprise_admin)
    first = _create(client, receivers().url).json()
    response = client.post(f"{ENDPOINTS}{first['id']}/rotate-secret/", {"keep_previous_hours": 2}, format="json")
    assert response.status_code == 200, response.json()
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first["secret"]
    assert rotated["previous_secret_expires_at"]
    endpoint = WebhookEndpoint.objects.get(pk=first["id"])
    assert (endpoint.secret, endpoint.previous_secret) == (rotated["secret"], first["secret"])
    audit = AuditEvent.objects.get(action="webhook.secret_rotate")
    assert first["secret"] not in str(audit.after) and rotated["secret"] not in str(audit.after)
    assert client.post(f"{ENDPOINTS}{first['id']}/rotate-secret/", {"keep_previous_hours": 500}, format="json").status_code == 400


def test_another_enterprise_cannot_see_or_touch_it(api_as, enterprise_admin, other_admin, receivers):
    pk = _create(api_as(enterprise_admin), receivers().url).json()["id"]
    other = api_as(other_admin)
    assert other.get(ENDPOINTS).json()["results"] == []
    for response in (other.get(f"{ENDPOINTS}{pk}/"), other.patch(f"{ENDPOINTS}{pk}/", {"active": False}, format="json"),
                     other.delete(f"{ENDPOINTS}{pk}/"), other.post(f"{ENDPOINTS}{pk}/rotate-secret/", {}, format="json"),
                     other.get(f"{ENDPOINTS}{pk}/deliveries/")):
        assert response.status_code == 404, response.content


def test_managers_register_platform_wide_endpoints_and_see_every_endpoint(api_as, manager, enterprise_admin, receivers):
    own = _create(api_as(enterprise_admin), receivers().url).json()
    response = _create(api_as(manager), receivers().url, platform=True)
    assert response.status_code == 201 and response.json()["scope"] == "platform" and response.json()["enterprise"] is None
    listed = {e["id"] for e in api_as(manager).get(ENDPOINTS).json()["results"]}
    assert listed == {own["id"], response.json()["id"]}
    # A manager reads an enterprise's endpoint but does not change it; an admin cannot go platform-wide.
    assert api_as(manager).patch(f"{ENDPOINTS}{own['id']}/", {"active": False}, format="json").status_code == 403
    assert _create(api_as(enterprise_admin), receivers().url, platform=True).status_code == 403
    assert api_as(enterprise_admin).get(f"{ENDPOINTS}{response.json()['id']}/").status_code == 404


def test_reviewers_and_anonymous_callers_are_refused(api_as, first_reviewer, receivers):
    assert api_as(first_reviewer).get(ENDPOINTS).status_code == 403
    assert _create(api_as(first_reviewer), receivers().url).status_code == 403
    assert api_as(None).get(ENDPOINTS).status_code == 401


@pytest.mark.parametrize(("url", "code"), [
    ("", "invalid"),
    ("not a url", "webhook_url_refused"),
    ("http://8.8.8.8/hooks", "webhook_url_refused"),
    ("https://169.254.169.254/latest/meta-data/", "webhook_url_refused"),
    ("https://10.1.2.3/hooks", "webhook_url_refused"),
    ("https://" + "a" * 260 + ".example/", "invalid"),
])
def test_bad_urls_are_field_errors(api_as, enterprise_admin, settings, url, code):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": False}
    response = _create(api_as(enterprise_admin), url)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and "url" in response.json()["fields"]


def test_loopback_is_refused_where_production_rules_apply(api_as, enterprise_admin, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": False}
    response = _create(api_as(enterprise_admin), "http://127.0.0.1:18201/hooks")
    assert response.status_code == 400 and "url" in response.json()["fields"]


@pytest.mark.parametrize("events", [[], ["appeal.created"], "appeal.decided", [1]])
def test_bad_events_are_field_errors(api_as, enterprise_admin, receivers, events):
    response = _create(api_as(enterprise_admin), receivers().url, events=events)
    assert response.status_code == 400 and "events" in response.json()["fields"], response.content


def test_delete_is_audited_and_only_managers_redeliver(api_as, enterprise_admin, manager, receivers, submitted_appeal):
    client = api_as(enterprise_admin)
    pk = _create(client, receivers().url).json()["id"]
    endpoint = WebhookEndpoint.objects.get(pk=pk)
    event = WebhookEvent.objects.create(webhook_id="msg_test", type="appeal.submitted", enterprise=endpoint.enterprise,
                                        appeal=submitted_appeal, payload={"data": {"appeal": {"reference": submitted_appeal.reference}}},
                                        occurred_at=submitted_appeal.submitted_at)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, attempt=1, status_code=500, latency_ms=3,
                                              outcome="transient", error="HTTP 500")
    log = client.get(f"{ENDPOINTS}{pk}/deliveries/").json()["results"]
    assert [(d["webhook_id"], d["status_code"], d["attempt"], d["appeal"]) for d in log] == [
        ("msg_test", 500, 1, submitted_appeal.reference)]
    redeliver = f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/"
    assert client.post(redeliver).status_code == 403
    response = api_as(manager).post(redeliver)
    assert response.status_code == 202 and response.json()["webhook_id"] == "msg_test"
    assert AuditEvent.objects.filter(action="webhook.redeliver", target_id=str(pk)).exists()

    assert client.delete(f"{ENDPOINTS}{pk}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action="webhook.endpoint_delete", target_id=str(pk)).exists()


def test_the_schema_documents_every_operation_and_its_errors(api_as, manager):
    schema = api_as(manager).get("/api/schema/?format=json").json()
    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/v1/webhooks/")}
    assert set(paths) == {"/api/v1/webhooks/endpoints/", "/api/v1/webhooks/endpoints/{id}/",
                          "/api/v1/webhooks/endpoints/{id}/rotate-secret/", "/api/v1/webhooks/endpoints/{id}/deliveries/",
                          "/api/v1/webhooks/deliveries/{id}/redeliver/"}
    create = paths["/api/v1/webhooks/endpoints/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "409", "413", "415", "429"} <= set(create)
    assert "secret" in schema["components"]["schemas"]["EndpointWithSecretOut"]["properties"]
    assert "secret" not in schema["components"]["schemas"]["EndpointOut"]["properties"]


def test_the_admin_lists_endpoints_and_never_shows_a_secret(client, superuser, enterprise_admin, receivers):
    from appeals.webhooks import services

    endpoint, secret = services.webhook_endpoint_create(by=enterprise_admin, url=receivers().url, events=["appeal.decided"])
    client.force_login(superuser)
    for url in ("/admin/appeals/webhookendpoint/", f"/admin/appeals/webhookendpoint/{endpoint.pk}/change/",
                "/admin/appeals/webhookdelivery/"):
        response = client.get(url)
        assert response.status_code == 200 and secret not in response.content.decode()
