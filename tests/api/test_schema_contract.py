"""What a generated client relies on: JSON-only bodies, one English schema, every error status
documented, binary downloads with their media types, `Bearer` beside `Token`, JSON errors."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UPLOADS = {("/api/v1/appeals/{reference}/evidence/", "post"),
           # operation records exported from WeCom (appeals.platform)
           ("/api/v1/appeals/{reference}/wecom-records/", "post")}
ERROR_REF = "#/components/schemas/ErrorOutput"


def _schema(client, language="en"):
    r = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200
    return r.json()


def test_only_the_upload_takes_anything_but_json(client):
    schema = _schema(client)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            media = set(operation["requestBody"]["content"])
            expected = {"multipart/form-data"} if (path, method) in UPLOADS else {"application/json"}
            assert media == expected, (method, path, media)


def test_a_form_body_is_refused_where_json_is_expected(enterprise_admin, incident):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=enterprise_admin)[1]}")
    r = client.post("/api/v1/appeals/", {"incident": incident.pk, "statement": "x", "contact_phone": "13812345678"},
                    format="multipart")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    r = APIClient().post("/api/v1/auth/token/", {"username": "admin-a", "password": "demo-pass-2026"}, format="multipart")
    assert r.status_code == 415
    r = client.get("/api/v1/appeals/", HTTP_ACCEPT="application/xml")  # documented too, and JSON
    assert r.status_code == 406 and r.json()["code"] == "not_acceptable"


def test_schema_is_the_same_english_document_in_every_language(client):
    english, chinese = _schema(client, "en"), _schema(client, "zh-hans")
    assert english == chinese
    text = str(chinese)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)  # no CJK in names or texts


def test_every_operation_documents_its_errors_with_the_error_body(client):
    schema = _schema(client)
    assert schema["components"]["schemas"]["ErrorOutput"]["required"] == ["code", "detail", "fields"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            needed = {"400", "404", "406", "429"}
            if operation.get("security") != [{}] and operation.get("security") != []:
                needed |= {"401", "403"}
            if method in ("post", "put", "patch", "delete"):
                needed |= {"403", "409"}
            if "requestBody" in operation:
                needed |= {"413", "415"}
            assert needed <= set(responses), (method, path, needed - set(responses))
            for code in needed:
                assert responses[code]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, code)


def test_binary_responses_are_declared_with_their_media_types(client):
    paths = _schema(client)["paths"]
    bundle = paths["/api/v1/appeals/{reference}/bundle/"]["get"]["responses"]["200"]["content"]
    csv = paths["/api/v1/reports/sla/{table}.csv"]["get"]["responses"]["200"]["content"]
    thumb = paths["/api/v1/appeals/{reference}/evidence/{uuid}/thumbnail/"]["get"]["responses"]["200"]["content"]
    assert bundle == {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
    assert csv == {"text/csv": {"schema": {"type": "string", "format": "binary"}}}
    assert thumb == {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}


def test_security_scheme_is_http_bearer(client):
    scheme = _schema(client)["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_bearer_is_accepted_beside_token(keyword, enterprise_admin, draft_appeal):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {AuthToken.objects.create(user=enterprise_admin)[1]}")
    r = client.get("/api/v1/appeals/")
    assert r.status_code == 200
    assert [a["reference"] for a in r.json()["results"]] == [draft_appeal.reference]


def test_a_wrong_bearer_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    r = client.get("/api/v1/appeals/")
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    client.credentials(HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")  # not ours: anonymous, then the challenge
    r = client.get("/api/v1/appeals/")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v2/appeals/", "/api/nope"])
def test_unknown_api_urls_answer_json_not_an_html_page(client, path):
    r = client.get(path, HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}


def test_pages_outside_the_api_keep_their_html_404(client):
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")


def test_a_crash_under_api_answers_json_500(client, enterprise_admin, monkeypatch):
    from appeals.core import selectors

    def boom(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(selectors, "appeal_list_for", boom)
    client.raise_request_exception = False
    client.force_login(enterprise_admin)
    r = client.get("/api/v1/appeals/")
    assert r.status_code == 500
    assert r["Content-Type"] == "application/json" and r.json()["code"] == "server_error"


def test_an_oversized_form_is_413_json(enterprise_admin, draft_appeal, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=enterprise_admin)[1]}")
    fields = {f"f{i}": "x" for i in range(20)}
    r = client.post(f"/api/v1/appeals/{draft_appeal.reference}/evidence/", fields, format="multipart")
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"


def test_docs_are_public_by_default_and_login_only_when_configured(client, settings, enterprise_admin):
    assert client.get("/api/schema/").status_code == 200
    settings.API_DOCS_REQUIRE_LOGIN = True
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert client.get("/api/schema/").status_code == 401
    r = client.get("/api/docs/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    client.force_login(enterprise_admin)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"<script>" not in docs.content  # start-up script served from a URL
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
