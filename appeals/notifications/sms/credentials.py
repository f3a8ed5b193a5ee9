"""SMS provider credentials a manager stores on the desk, overriding the environment's.

The secret is an EncryptedTextField (appeals/shared/secrets.py): encrypted at rest under
FIELD_ENCRYPTION_KEYS (from the environment), re-encrypted by `manage.py rotate_secrets`.
It is never shown again once set (pages show whether it is set, and the key ID masked),
never logged, never written to the audit chain: the audit event of a change says who
changed which provider's keys and the masked key ID, nothing more.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.notifications.models import SmsProviderAccount
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.secrets import mask

# Which settings keys of each adapter the stored credentials fill.
FIELDS = {
    "tencent": ("SECRET_ID", "SECRET_KEY"),
    "alibaba": ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET"),
}


def stored(provider: str) -> dict:
    """The stored credentials as adapter settings ({} when none: the environment's apply)."""
    account = SmsProviderAccount.objects.filter(provider=provider).first()
    if account is None or provider not in FIELDS:
        return {}
    id_key, secret_key = FIELDS[provider]
    return {id_key: account.key_id, secret_key: account.secret}


def _environment_has(provider: str) -> bool:
    conf = getattr(settings, f"{provider.upper()}_SMS", {})
    return all(conf.get(k) for k in FIELDS[provider])


def sms_accounts() -> list[dict]:
    """Per provider that takes credentials: where its keys come from, the key ID masked."""
    accounts = {a.provider: a for a in SmsProviderAccount.objects.select_related("updated_by")}
    rows = []
    for provider in FIELDS:
        account = accounts.get(provider)
        source = "stored" if account else ("environment" if _environment_has(provider) else "missing")
        rows.append({"provider": provider, "source": source, "key_id": mask(account.key_id) if account else "",
                     "updated_at": account.updated_at if account else None,
                     "updated_by": account.updated_by.get_username() if account and account.updated_by else ""})
    return rows


def _validate(provider: str, key_id: str, secret: str) -> None:
    errors = {}
    if provider not in FIELDS:
        errors["provider"] = [_("Choose a provider.")]
    if not key_id or len(key_id) > 128 or any(c.isspace() for c in key_id):
        errors["key_id"] = [_("Enter the key ID (at most 128 characters, no spaces).")]
    if not secret or len(secret) > 512 or any(c.isspace() for c in secret):
        errors["secret"] = [_("Enter the secret key (at most 512 characters, no spaces).")]
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def sms_credentials_set(*, provider: str, key_id: str, secret: str, by) -> SmsProviderAccount:
    """Store (or replace: a rotation) one provider's keys. Audited without the secret."""
    key_id, secret = (key_id or "").strip(), (secret or "").strip()
    _validate(provider, key_id, secret)
    account = SmsProviderAccount.objects.select_for_update().filter(provider=provider).first()
    before = {"key_id": mask(account.key_id), "secret_set": True} if account else {"secret_set": False}
    if account is None:
        account = SmsProviderAccount(provider=provider)
    account.key_id, account.secret, account.updated_by = key_id, secret, by
    account.save()
    audit_record(actor=by, action="sms_provider.credentials_set", target_type="sms_provider", target_id=provider,
                 before=before, after={"key_id": mask(key_id), "secret_set": True, "secret_changed": True})
    return account


@transaction.atomic
def sms_credentials_clear(*, provider: str, by) -> bool:
    """Forget the stored keys: the environment's apply again. Audited."""
    deleted, _rows = SmsProviderAccount.objects.filter(provider=provider).delete()
    if deleted:
        audit_record(actor=by, action="sms_provider.credentials_cleared", target_type="sms_provider", target_id=provider,
                     before={"secret_set": True}, after={"secret_set": False})
    return bool(deleted)
