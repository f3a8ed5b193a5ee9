"""SMS provider keys stored by a manager: encrypted at rest, rotatable, write-only, audited,
never logged, and the keys the adapters actually sign with."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client

from appeals.audit.models import AuditEvent
from appeals.notifications.models import SmsProviderAccount
from appeals.notifications.sms import SmsMessage, credentials
from appeals.notifications.sms.backends.tencent import SmsBackend as Tencent
from appeals.shared import secrets
from appeals.shared.exceptions import ValidationFailed

from . import tencent_server

pytestmark = pytest.mark.django_db


def _raw_secret(provider: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM appeals_smsprovideraccount WHERE provider = %s", [provider])
        return cursor.fetchone()[0]


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_stored_secret_is_encrypted_at_rest_and_audited_without_it(manager):
    credentials.sms_credentials_set(provider="tencent", key_id="AKIDabcdefghijklmnop", secret="very-secret-key-123", by=manager)
    assert "very-secret-key-123" not in _raw_secret("tencent")
    assert SmsProviderAccount.objects.get(provider="tencent").secret == "very-secret-key-123"
    event = AuditEvent.objects.get(action="sms_provider.credentials_set")
    assert event.actor == manager and event.target_id == "tencent"
    assert "very-secret-key-123" not in str(event.before) + str(event.after)
    assert "AKIDabcdefghijklmnop" not in str(event.after) and event.after["key_id"] == "••••mnop"


def test_rotate_secrets_re_encrypts_the_stored_key(manager, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    credentials.sms_credentials_set(provider="alibaba", key_id="LTAI-abc", secret="ali-secret", by=manager)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert not secrets.is_current(_raw_secret("alibaba"))
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))
    assert secrets.is_current(_raw_secret("alibaba"))
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert SmsProviderAccount.objects.get(provider="alibaba").secret == "ali-secret"


def test_the_adapter_signs_with_the_stored_keys(manager, tencent, settings):
    settings.TENCENT_SMS = {**settings.TENCENT_SMS, "ENDPOINT": tencent.endpoint, "SDK_APP_ID": tencent_server.SDK_APP_ID,
                            "SECRET_ID": tencent_server.SECRET_ID, "SECRET_KEY": "an-old-key-from-the-environment"}
    message = SmsMessage(phone="13812345678", template="verification_code", params={"code": "1", "minutes": 1}, out_id="k:1")
    with pytest.raises(Exception, match="AuthFailure.SignatureFailure"):
        Tencent().send(message)
    credentials.sms_credentials_set(provider="tencent", key_id=tencent_server.SECRET_ID, secret=tencent_server.SECRET_KEY,
                                    by=manager)
    assert Tencent().send(message)
    credentials.sms_credentials_clear(provider="tencent", by=manager)
    with pytest.raises(Exception, match="AuthFailure.SignatureFailure"):
        Tencent().send(message)
    assert [e.action for e in AuditEvent.objects.filter(target_type="sms_provider").order_by("position")] == [
        "sms_provider.credentials_set", "sms_provider.credentials_cleared"]


def test_bad_input_is_refused_field_by_field(manager):
    with pytest.raises(ValidationFailed) as exc:
        credentials.sms_credentials_set(provider="nokia", key_id="has space", secret="", by=manager)
    assert set(exc.value.fields) == {"provider", "key_id", "secret"}
    assert not SmsProviderAccount.objects.exists()


def test_the_page_stores_keys_and_never_shows_the_secret(manager, caplog):
    client = _client(manager)
    caplog.set_level(logging.DEBUG)
    response = client.post("/manager/sms-providers/", {"provider": "alibaba", "key_id": "LTAI5tABCDEFGHIJ1234",
                                                        "secret": "page-secret-value", "action": "set"}, follow=True)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-source="stored"' in body
    assert "••••1234" in body and "LTAI5tABCDEFGHIJ1234" not in body and "page-secret-value" not in body
    assert not any("page-secret-value" in r.getMessage() for r in caplog.records)
    assert SmsProviderAccount.objects.get(provider="alibaba").secret == "page-secret-value"


def test_the_page_answers_bad_input_with_field_errors_not_a_500(manager):
    response = _client(manager).post("/manager/sms-providers/", {"provider": "alibaba", "key_id": "a b", "secret": "x y"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"key_id", "secret"}
    assert b"x y" not in response.content


def test_only_managers_reach_the_page(first_reviewer, enterprise_admin):
    assert _client(first_reviewer).get("/manager/sms-providers/").status_code == 403
    assert _client(enterprise_admin).get("/manager/sms-providers/").status_code == 403
    assert Client().get("/manager/sms-providers/").status_code == 302


def test_the_page_in_both_languages(manager):
    client = _client(manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "SMS provider keys" in client.get("/manager/sms-providers/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    body = client.get("/manager/sms-providers/").content.decode()
    assert 'lang="zh-hans"' in body.lower() or "zh-hans" in body.lower()
