"""Token and session auth, the rate limits the suite runs with, the token throttle, the OpenAPI
schema and the offline Swagger UI."""

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

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


# config/settings/base.py's defaults (THROTTLE_ANON, THROTTLE_USER, THROTTLE_TOKEN).
PRODUCTION_RATES = {"anon": "60/min", "user": "600/min", "token": "10/min"}
# An endpoint anyone may call without credentials, under the default throttles.
ANONYMOUS_ENDPOINT = "/api/v1/verification/email/confirm/"


def test_the_suite_runs_with_the_production_rate_limits():
    """No test setting raises them for everyone (a test that needs more asks for the
    `relaxed_throttles` fixture), and no THROTTLE_* variable in the shell changes them."""
    assert api_settings.DEFAULT_THROTTLE_RATES == PRODUCTION_RATES
    assert SimpleRateThrottle.THROTTLE_RATES == PRODUCTION_RATES  # what the throttles read


def test_the_61st_anonymous_request_in_a_minute_is_refused(db):
    client = APIClient()
    codes = [client.post(ANONYMOUS_ENDPOINT, {"token": "forged"}, format="json").status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]
    r = client.post(ANONYMOUS_ENDPOINT, {"token": "forged"}, format="json")
    assert r.status_code == 429 and r.json()["code"] == "throttled" and 0 < int(r["Retry-After"]) <= 60
    # Another address has its own minute.
    assert client.post(ANONYMOUS_ENDPOINT, {"token": "forged"}, format="json", REMOTE_ADDR="192.0.2.61").status_code == 200


@pytest.mark.usefixtures("relaxed_throttles")
def test_relaxed_throttles_lift_the_limits_for_one_test(db):
    """The fixture reaches the throttles themselves, not only the setting."""
    assert SimpleRateThrottle.THROTTLE_RATES["anon"] == api_settings.DEFAULT_THROTTLE_RATES["anon"] != "60/min"
    client = APIClient()
    assert {client.post(ANONYMOUS_ENDPOINT, {"token": "forged"}, format="json").status_code for _ in range(61)} == {200}


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
