"""The Idempotency-Key header on every POST of the API (appeals/api/idempotency.py), on the
core's own endpoints: a retry gets the first answer and creates nothing twice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appeals.api.idempotency import sweep_expired
from appeals.api.models import IdempotencyRecord
from appeals.api.tasks import idempotency_sweep
from appeals.core.models import Appeal, MessagingAccount
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts/"


def _account(n: int = 1) -> dict:
    return {"platform": "wecom", "account_id": f"wx-idem-{n}", "display_name": "客服一组", "account_type": "operations"}


def test_a_retried_post_is_answered_not_redone(enterprise_admin):
    api = client_for(enterprise_admin)
    first = api.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="a1")
    again = api.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="a1")

    assert first.status_code == 201 and again.status_code == 201  # not 400 "already registered"
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert MessagingAccount.objects.filter(account_id="wx-idem-1").count() == 1


def test_without_a_key_nothing_changes(enterprise_admin):
    api = client_for(enterprise_admin)
    assert api.post(ACCOUNTS, _account(), format="json").status_code == 201
    assert api.post(ACCOUNTS, _account(), format="json").status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_a_verb_is_carried_out_once(draft_appeal, enterprise_admin, intake_guards_off):
    api = client_for(enterprise_admin)
    url = f"/api/v1/appeals/{draft_appeal.reference}/submit/"
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="submit-1")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="submit-1")
    assert first.status_code == 200, first.content
    assert again.status_code == 200 and again.content == first.content  # not 409 "already submitted"
    assert Appeal.objects.get(pk=draft_appeal.pk).events.filter(action="submit").count() == 1


def test_the_same_key_elsewhere_or_with_another_body_is_refused(enterprise_admin):
    api = client_for(enterprise_admin)
    api.post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="a1")
    other_body = api.post(ACCOUNTS, _account(2), format="json", HTTP_IDEMPOTENCY_KEY="a1")
    other_path = api.post("/api/v1/incidents/", {}, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert not MessagingAccount.objects.filter(account_id="wx-idem-2").exists()


def test_keys_belong_to_their_user(enterprise_admin, other_admin):
    first = client_for(enterprise_admin).post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="same")
    second = client_for(other_admin).post(ACCOUNTS, _account(2), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == second.status_code == 201
    assert not second.has_header("Idempotent-Replayed")
    assert second.json()["enterprise"]["id"] == other_admin.enterprise_id


def test_a_session_user_is_covered_too(enterprise_admin):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(enterprise_admin)
    first = api.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="s1")
    again = api.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="s1")
    assert (first.status_code, again.status_code) == (201, 201) and again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "clé"])
def test_a_malformed_key_is_a_400(enterprise_admin, key):
    response = client_for(enterprise_admin).post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert not MessagingAccount.objects.exists()


def test_refusals_that_did_nothing_are_not_kept(enterprise_admin, first_reviewer, draft_appeal):
    # 403: not the enterprise side; a retry runs again (and may succeed once the cause is fixed).
    api = client_for(first_reviewer)
    assert api.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="r1").status_code == 403
    assert not IdempotencyRecord.objects.exists()
    # 401: a bad token; nothing is looked up or kept.
    anon = client_for(None)
    anon.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert anon.post(ACCOUNTS, _account(), format="json", HTTP_IDEMPOTENCY_KEY="r1").status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_a_validation_error_is_kept_and_replayed(enterprise_admin):
    api = client_for(enterprise_admin)
    bad = {**_account(), "account_type": "nonsense"}
    first = api.post(ACCOUNTS, bad, format="json", HTTP_IDEMPOTENCY_KEY="v1")
    again = api.post(ACCOUNTS, bad, format="json", HTTP_IDEMPOTENCY_KEY="v1")
    assert first.status_code == again.status_code == 400
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_keys_expire_after_a_day_and_the_sweep_removes_them(enterprise_admin):
    api = client_for(enterprise_admin)
    api.post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="old")
    record = IdempotencyRecord.objects.get(key="old")
    assert timedelta(hours=23, minutes=59) < record.expires_at - record.started_at <= timedelta(hours=24)

    IdempotencyRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # An expired key is a new key: the request runs again (and the account exists now: 400).
    assert api.post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 400
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    api.post(ACCOUNTS, _account(2), format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    assert idempotency_sweep.apply().get() >= 1  # the beat task (appeals.tasks.api.idempotency_sweep)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert sweep_expired() == 0


def test_a_record_left_running_by_a_dead_process_is_taken_over(enterprise_admin, settings):
    api = client_for(enterprise_admin)
    assert api.post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="orphan").status_code == 201
    # As if the process had died before answering: the record is still "running", long ago.
    stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY["STALE_SECONDS"] + 1)
    IdempotencyRecord.objects.update(completed_at=None, status_code=None, body="", started_at=stale)
    MessagingAccount.objects.all().delete()

    taken_over = api.post(ACCOUNTS, _account(1), format="json", HTTP_IDEMPOTENCY_KEY="orphan")
    assert taken_over.status_code == 201 and not taken_over.has_header("Idempotent-Replayed")
    assert MessagingAccount.objects.count() == 1
    assert IdempotencyRecord.objects.get().completed_at is not None
    # Another request with the key is still refused.
    assert api.post(ACCOUNTS, _account(2), format="json", HTTP_IDEMPOTENCY_KEY="orphan").status_code == 422


def test_stored_answers_are_encrypted_at_rest(manager, enterprise):
    from appeals.intake import services

    sa = services.service_account_create(by=manager, name="X", enterprises=[enterprise])
    api = client_for(manager)
    url = f"/api/v1/intake/service-accounts/{sa.pk}/tokens/"
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="t1")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="t1")
    assert first.status_code == again.status_code == 201 and again.json()["token"] == first.json()["token"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {IdempotencyRecord._meta.db_table}")
        (raw,) = cursor.fetchone()
    assert first.json()["token"] not in raw


def test_the_schema_documents_the_header_on_every_post():
    import yaml
    from django.test import Client

    schema = yaml.safe_load(Client().get("/api/schema/").content)
    posts = [(path, ops["post"]) for path, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) > 10
    for path, op in posts:
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert {"409", "422"} <= set(op["responses"]), path
    push = schema["paths"]["/api/v1/intake/incidents/"]["post"]
    assert {"200", "201", "400", "401", "403", "404", "409", "422"} <= set(push["responses"])
    assert "Idempotent-Replayed" in push["responses"]["201"]["headers"]


def _multipart(boundary: str, png: bytes) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbusiness_license\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"licence.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()


def test_a_retried_upload_with_a_new_boundary_is_the_same_request(draft_appeal, enterprise_admin):
    import base64

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
    api = client_for(enterprise_admin)
    url = f"/api/v1/appeals/{draft_appeal.reference}/evidence/"
    answers = [
        api.generic("POST", url, _multipart(boundary, png), content_type=f"multipart/form-data; boundary={boundary}",
                    HTTP_IDEMPOTENCY_KEY="upload-1")
        for boundary in ("a" * 32, "b" * 32)
    ]
    assert answers[0].status_code < 500
    assert answers[1].content == answers[0].content and answers[1]["Idempotent-Replayed"] == "true"
    assert draft_appeal.evidence.count() <= 1
