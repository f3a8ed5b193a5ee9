"""The verification API: status, code, resend, escalate, email confirmation; errors as {detail, code, fields}."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from appeals.models import AppealState, Channel, VerificationChallenge

from .conftest import last_code, last_token

pytestmark = pytest.mark.django_db
BASE = "/api/v1/appeals/{ref}/verification/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_status_shows_masked_destinations_and_message_states(pending_appeal, enterprise_admin, enterprise):
    response = client_for(enterprise_admin).get(BASE.format(ref=pending_appeal.reference))
    assert response.status_code == 200
    body = response.json()
    channels = {c["channel"]: c for c in body["channels"]}
    phone = enterprise.legal_rep_mobile
    assert channels["sms"]["destination"] == f"{phone[:3]}****{phone[-4:]}"
    assert phone not in response.content.decode()
    assert channels["sms"]["state"] == "pending" and channels["sms"]["attempts_left"] == 5
    assert 0 < channels["sms"]["resend_in"] <= 60
    assert channels["email"]["destination"].startswith(enterprise.admin_email[0] + "***@")
    assert {(m["channel"], m["state"], m["label"]) for m in body["messages"]} == {
        ("sms", "sent", "SMS verification code"), ("email", "sent", "Email confirmation link")}
    assert body["appeal_state"] == "submitted"


def test_verify_code_wrong_then_right(pending_appeal, enterprise_admin):
    client = client_for(enterprise_admin)
    url = BASE.format(ref=pending_appeal.reference) + "code/"
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(url, {"code": wrong}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_code" and response.json()["attempts_left"] == 4
    assert "code" in response.json()["fields"]
    response = client.post(url, {"code": "12ab"}, format="json")
    assert response.status_code == 400 and "code" in response.json()["fields"]
    response = client.post(url, {}, format="json")
    assert response.status_code == 400 and "code" in response.json()["fields"]
    response = client.post(url, {"code": code}, format="json")
    assert response.status_code == 200
    assert {c["channel"]: c["state"] for c in response.json()["channels"]}["sms"] == "verified"


def test_locked_code_is_409(pending_appeal, enterprise_admin):
    client = client_for(enterprise_admin)
    url = BASE.format(ref=pending_appeal.reference) + "code/"
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"
    statuses = [client.post(url, {"code": wrong}, format="json").status_code for _i in range(6)]
    assert statuses == [400, 400, 400, 400, 409, 409]
    assert client.post(url, {"code": last_code()}, format="json").json()["code"] == "code_locked"


def test_resend_cooldown_is_429_with_retry_after(pending_appeal, enterprise_admin):
    client = client_for(enterprise_admin)
    url = BASE.format(ref=pending_appeal.reference) + "resend/"
    response = client.post(url, {"channel": "sms"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "resend_cooldown"
    assert 0 < int(response["Retry-After"]) <= 60 and response.json()["retry_after"] == int(response["Retry-After"])
    VerificationChallenge.objects.filter(appeal=pending_appeal).update(created_at=timezone.now() - timedelta(seconds=61))
    response = client.post(url, {"channel": "sms"}, format="json")
    assert response.status_code == 202
    assert client.post(url, {"channel": "carrier-pigeon"}, format="json").status_code == 400


def test_another_tenant_gets_404_everywhere(pending_appeal, other_admin):
    client = client_for(other_admin)
    base = BASE.format(ref=pending_appeal.reference)
    assert client.get(base).status_code == 404
    assert client.post(base + "code/", {"code": "123456"}, format="json").status_code == 404
    assert client.post(base + "resend/", {"channel": "sms"}, format="json").status_code == 404
    assert client.post(base + "escalate/", {"comment": "x"}, format="json").status_code == 404


def test_anonymous_is_refused(pending_appeal):
    assert APIClient().get(BASE.format(ref=pending_appeal.reference)).status_code in (401, 403)


def test_reviewer_sees_status_and_escalates(pending_appeal, first_reviewer, enterprise_admin):
    reviewer = client_for(first_reviewer)
    base = BASE.format(ref=pending_appeal.reference)
    assert reviewer.get(base).status_code == 200
    assert reviewer.post(base + "code/", {"code": last_code()}, format="json").status_code == 403
    response = reviewer.post(base + "escalate/", {"comment": ""}, format="json")
    assert response.status_code == 400 and "comment" in response.json()["fields"]
    assert client_for(enterprise_admin).post(base + "escalate/", {"comment": "x"}, format="json").status_code == 403
    response = reviewer.post(base + "escalate/", {"comment": "Phone number no longer in service."}, format="json")
    assert response.status_code == 200 and response.json()["appeal_state"] == "escalated"
    assert reviewer.post(base + "escalate/", {"comment": "again"}, format="json").status_code == 409


def test_confirm_email_by_token(pending_appeal, enterprise_admin):
    token = last_token()
    client = APIClient()
    url = "/api/v1/verification/email/confirm/"
    assert client.post(url, {"token": token}, format="json").json() == {
        "status": "verified", "reference": pending_appeal.reference, "appeal_state": "submitted"}
    assert client.post(url, {"token": token}, format="json").json()["status"] == "used"
    assert client.post(url, {"token": "nope"}, format="json").json() == {"status": "forged", "reference": None, "appeal_state": None}
    client_for(enterprise_admin).post(BASE.format(ref=pending_appeal.reference) + "code/", {"code": last_code()}, format="json")
    pending_appeal.refresh_from_db()
    assert pending_appeal.state == AppealState.FIRST_REVIEW


def test_endpoints_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path, method, status in [
        ("/api/v1/appeals/{reference}/verification/", "get", "200"),
        ("/api/v1/appeals/{reference}/verification/code/", "post", "400"),
        ("/api/v1/appeals/{reference}/verification/resend/", "post", "429"),
        ("/api/v1/appeals/{reference}/verification/escalate/", "post", "409"),
        ("/api/v1/verification/email/confirm/", "post", "200"),
    ]:
        assert status in paths[path][method]["responses"], (path, method)
    assert set(schema["components"]["schemas"]["ChannelEnum"]["enum"]) == set(Channel.values)
