"""Token and session auth, the token throttle, the OpenAPI schema and the offline Swagger UI."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from appeals.core.api.views import TokenRateThrottle

pytestmark = pytest.mark.django_db


def test_token_login_then_use_it(enterprise_admin, draft_appeal):
    client = APIClient()
    r = client.post("/api/v1/auth/token/", {"username": "admin-a", "password": "demo-pass-2026"}, format="json")
    assert r.status_code == 200
    token = r.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = client.get("/api/v1/appeals/")
    assert [a["reference"] for a in r.json()["results"]] == [draft_appeal.reference]


def test_wrong_password_is_a_400_not_a_token(enterprise_admin):
    r = APIClient().post("/api/v1/auth/token/", {"username": "admin-a", "password": "nope"}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert "non_field_errors" in r.json()["fields"]
    r = APIClient().post("/api/v1/auth/token/", {"username": "admin-a"}, format="json")
    assert r.status_code == 400 and "password" in r.json()["fields"]


def test_token_endpoint_is_throttled(enterprise_admin, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    cache.clear()
    client = APIClient()
    codes = [client.post("/api/v1/auth/token/", {"username": "admin-a", "password": "guess"}, format="json").status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    r = client.post("/api/v1/auth/token/", {"username": "admin-a", "password": "demo-pass-2026"}, format="json")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) > 0
    cache.clear()


def test_anonymous_gets_401_with_a_challenge(db):
    r = APIClient().get("/api/v1/appeals/")
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == "Token"
    assert r.json()["code"] == "not_authenticated"


def test_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/appeals/").status_code == 401


def test_session_auth_works_too(client, enterprise_admin, draft_appeal):
    client.force_login(enterprise_admin)
    r = client.get(f"/api/v1/appeals/{draft_appeal.reference}/")
    assert r.status_code == 200
    assert r.json()["reference"] == draft_appeal.reference


def test_session_writes_need_csrf(enterprise_admin, draft_appeal):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(enterprise_admin)
    r = client.post(f"/api/v1/appeals/{draft_appeal.reference}/submit/")
    assert r.status_code == 403
    draft_appeal.refresh_from_db()
    assert draft_appeal.state == "draft"


def test_openapi_schema_lists_every_endpoint(client):
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for verb in ("submit", "withdraw", "resubmit", "claim", "first-review", "second-review", "decide", "reassign", "timeline"):
        assert f"/api/v1/appeals/{{reference}}/{verb}/" in paths
    for path in ("/api/v1/appeals/", "/api/v1/appeals/{reference}/", "/api/v1/incidents/", "/api/v1/incidents/{id}/",
                 "/api/v1/incidents/{id}/severity/", "/api/v1/accounts/", "/api/v1/accounts/{id}/", "/api/v1/auth/token/"):
        assert path in paths
    first = schema["components"]["schemas"]["FirstReviewInputRequest"]["properties"]["decision"]
    assert "enum" in first or "$ref" in first or "allOf" in first


def test_swagger_ui_is_served_without_a_cdn(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_schema_generates_and_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/appeals/{reference}/second-review/" in out.read_text()
