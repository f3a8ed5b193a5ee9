"""Secrets at rest: Fernet under FIELD_ENCRYPTION_KEYS, rotation, masked repr, the deploy check."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from appeals.audit.models import AuditEvent
from appeals.shared import secrets


def test_round_trip_and_masked_repr(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = secrets.encrypt("corp-secret-value")
    assert "corp-secret-value" not in token
    value = secrets.decrypt(token)
    assert value == "corp-secret-value"
    assert "corp-secret-value" not in repr(value) and "corp-secret-value" not in repr([value])
    assert secrets.mask("abcdefghijklmnop") == "••••mnop" and secrets.mask("short") == "••••" and secrets.mask("") == ""


def test_old_key_still_decrypts_and_rotate_moves_to_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = secrets.encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert secrets.decrypt(token) == "s3cret" and not secrets.is_current(token)
    rotated = secrets.rotate(token)
    assert secrets.is_current(rotated)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert secrets.decrypt(rotated) == "s3cret"
    with pytest.raises(secrets.SecretKeyError):
        secrets.decrypt(token)


def test_deploy_check_requires_keys_in_production(settings):
    settings.PRODUCTION = True
    settings.FIELD_ENCRYPTION_KEYS = []
    assert [e.id for e in secrets.check_keys()] == ["appeals.E601"]
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    assert [e.id for e in secrets.check_keys()] == ["appeals.E602"]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert secrets.check_keys() == []


@pytest.mark.django_db
def test_rotate_secrets_command_audits_counts_without_values(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))
    event = AuditEvent.objects.filter(action="secrets.rotated").latest("position")
    assert isinstance(event.after, dict) and event.actor is None


@pytest.mark.django_db
def test_rotate_secrets_re_encrypts_the_wecom_corp_secret_under_the_new_key(settings, enterprise_admin):
    from django.db import connection as db

    from appeals.platform.models import WeComConnection

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    saved = WeComConnection.objects.create(enterprise=enterprise_admin.enterprise, corp_id="ww0123", corp_secret="corp-secret-1",
                                           api_base="https://qyapi.weixin.qq.com", connected_by=enterprise_admin)

    def raw() -> str:
        with db.cursor() as cursor:
            cursor.execute(f"SELECT corp_secret FROM {WeComConnection._meta.db_table} WHERE id = %s", [saved.pk])
            return cursor.fetchone()[0]

    before = raw()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))
    after = raw()
    assert after != before and secrets.is_current(after) and "corp-secret-1" not in after
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key dropped: the secret still reads
    assert WeComConnection.objects.get(pk=saved.pk).corp_secret == "corp-secret-1"
    event = AuditEvent.objects.filter(action="secrets.rotated").latest("position")
    assert event.after["appeals.WeComConnection.corp_secret"] == 1
