"""Writes for enterprises (tenants), their messaging accounts and their ban incidents.

Each is an entry point (one durable transaction, appeals.shared.db); `appeal_file` composes
`incident_create.nested`. The severity listeners run inside `incident_set_severity`'s transaction.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object
from appeals.core import plugins, search
from appeals.core.models import Appeal, BanIncident, Enterprise, MessagingAccount, Role
from appeals.core.models.incident import default_severity
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.validators import normalise_mobile
from appeals.shared.writes import require, snapshot, validate_model

ENTERPRISE_FIELDS = (
    "name", "credit_code", "legal_rep_name", "legal_rep_mobile", "admin_name", "admin_email", "admin_phone",
)
PHONE_FIELDS = ("legal_rep_mobile", "admin_phone")
ACCOUNT_FIELDS = ("platform", "account_id", "display_name", "account_type")
INCIDENT_FIELDS = ("account", "banned_at", "kind", "reason", "notice_text", "severity")


def _normalise_phones(fields: dict) -> dict:
    """Phones typed any common way are stored canonical (11 digits); one that cannot be read is
    left as typed, for validate_model to refuse with the field's message."""
    for key in PHONE_FIELDS:
        if fields.get(key):
            try:
                fields[key] = normalise_mobile(fields[key])
            except DjangoValidationError:
                pass
    return fields


@entry_point
def enterprise_create(*, by, **fields) -> Enterprise:
    require(by.is_superuser or by.has_role(Role.MANAGER))
    _normalise_phones(fields)
    if "credit_code" in fields:
        fields["credit_code"] = (fields["credit_code"] or "").strip().upper()
    enterprise = Enterprise(**{k: v for k, v in fields.items() if k in ENTERPRISE_FIELDS})
    validate_model(enterprise)
    enterprise.save()
    audit_object(actor=by, action="enterprise.create", obj=enterprise, after=snapshot(enterprise, ENTERPRISE_FIELDS))
    return enterprise


@entry_point
def enterprise_update(*, enterprise: Enterprise, by, **fields) -> Enterprise:
    """The enterprise's own admin keeps its profile current; so may the desk's managers."""
    require(by.enterprise_id == enterprise.pk or by.is_superuser or by.has_role(Role.MANAGER))
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = snapshot(enterprise, ENTERPRISE_FIELDS)
    _normalise_phones(fields)
    for key, value in fields.items():
        if key in ENTERPRISE_FIELDS:
            setattr(enterprise, key, value)
    validate_model(enterprise)
    enterprise.save()
    audit_object(actor=by, action="enterprise.update", obj=enterprise, before=before, after=snapshot(enterprise, ENTERPRISE_FIELDS))
    if before.get("name") != enterprise.name:
        search.refresh(Appeal.objects.filter(enterprise=enterprise).values_list("pk", flat=True))
    return enterprise


@entry_point
def account_create(*, by, enterprise: Enterprise, **fields) -> MessagingAccount:
    require(by.enterprise_id == enterprise.pk or by.is_superuser)
    account = MessagingAccount(enterprise=enterprise, **{k: v for k, v in fields.items() if k in ACCOUNT_FIELDS})
    validate_model(account, exclude=["enterprise"])
    if MessagingAccount.objects.filter(platform=account.platform, account_id=account.account_id).exists():
        raise ValidationFailed(fields={"account_id": [_("This account is already registered on this platform.")]})
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        raise ValidationFailed(fields={"account_id": [_("This account is already registered on this platform.")]}) from None
    audit_object(actor=by, action="account.create", obj=account, after=snapshot(account, ACCOUNT_FIELDS))
    return account


@entry_point
def account_update(*, account: MessagingAccount, by, **fields) -> MessagingAccount:
    require(by.enterprise_id == account.enterprise_id or by.is_superuser)
    account = MessagingAccount.objects.select_for_update().get(pk=account.pk)
    before = snapshot(account, ACCOUNT_FIELDS)
    for key in ("display_name", "account_type"):
        if key in fields:
            setattr(account, key, fields[key])
    validate_model(account)
    account.save()
    audit_object(actor=by, action="account.update", obj=account, before=before, after=snapshot(account, ACCOUNT_FIELDS))
    if before.get("display_name") != account.display_name:
        search.refresh(Appeal.objects.filter(incident__account=account).values_list("pk", flat=True))
    return account


@entry_point
def incident_create(*, by, account: MessagingAccount, banned_at, kind: str, reason: str = "unknown", notice_text: str = "") -> BanIncident:
    require(by.enterprise_id == account.enterprise_id or by.is_superuser)
    return incident_record(by=by, account=account, banned_at=banned_at, kind=kind, reason=reason, notice_text=notice_text)


def incident_record(*, by, account: MessagingAccount, banned_at, kind: str, reason: str = "unknown", notice_text: str = "",
                    audit_extra: dict | None = None) -> BanIncident:
    """Validate, save and audit an incident, in the caller's transaction. The caller has decided
    that `by` may record it: `incident_create` (the enterprise's own admin), or the intake's push
    (a service account serving the account's enterprise, appeals.intake.services)."""
    incident = BanIncident(
        enterprise_id=account.enterprise_id,
        account=account,
        banned_at=banned_at,
        kind=kind,
        reason=reason or "unknown",
        notice_text=notice_text or "",
        created_by=by,
    )
    if kind in dict(BanIncident._meta.get_field("kind").choices):
        incident.severity = default_severity(kind)
    validate_model(incident, exclude=["enterprise", "account", "created_by"])
    incident.save()
    audit_object(actor=by, action="incident.create", obj=incident,
                 after={**snapshot(incident, INCIDENT_FIELDS), **(audit_extra or {})})
    return incident


@entry_point
def incident_set_severity(*, incident: BanIncident, severity: str, by) -> BanIncident:
    """A reviewer corrects the severity the incident kind suggested."""
    require(by.has_role(Role.FIRST_REVIEWER) or by.has_role(Role.SECOND_REVIEWER) or by.has_role(Role.MANAGER))
    incident = BanIncident.objects.select_for_update().get(pk=incident.pk)
    before = {"severity": incident.severity}
    incident.severity = severity
    validate_model(incident)
    incident.save(update_fields=["severity"])
    audit_object(actor=by, action="incident.set_severity", obj=incident, before=before, after={"severity": severity})
    if before["severity"] != severity:
        for listener in plugins.severity_listeners():
            listener(incident=incident, by=by)
    return incident
