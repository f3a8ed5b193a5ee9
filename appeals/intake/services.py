"""Intake writes: managers create, scope, revoke service accounts and issue their API tokens;
a service account pushes ban incidents for the enterprises it serves. Every one is audited.

A pushed incident is an ordinary `BanIncident` (recorded by the core's `incident_record`, so it
is validated and audited like any other) plus a `PushedIncident` row naming the service account
and the enforcement system's own id: pushed twice with the same `external_id`, it exists once.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from appeals.audit.services import audit_record
from appeals.core.models import Enterprise, MessagingAccount, Role, User
from appeals.core.services.auth import tokens_revoke_all
from appeals.core.services.enterprises import incident_record
from appeals.intake.models import PushedIncident, ServiceAccount
from appeals.shared.db import entry_point
from appeals.shared.exceptions import NotFound, PermissionDenied, ValidationFailed
from appeals.shared.writes import require

TARGET = "appeals.serviceaccount"
SOURCE = "enforcement"


def _may_manage(by) -> bool:
    return bool(by and (by.is_superuser or by.has_role(Role.MANAGER)))


def _scope(service_account: ServiceAccount) -> list[int]:
    return sorted(service_account.enterprises.values_list("pk", flat=True))


def _audit(*, by, action: str, service_account: ServiceAccount, before=None, after=None, enterprise_id=None) -> None:
    audit_record(actor=by, action=action, target_type=TARGET, target_id=service_account.pk,
                 enterprise_id=enterprise_id, before=before, after=after)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("This field may not be blank.")]})
    if len(name) > 100:
        raise ValidationFailed(fields={"name": [_("Ensure this field has no more than 100 characters.")]})
    return name


@entry_point
def service_account_create(*, by, name: str, enterprises: list[Enterprise]) -> ServiceAccount:
    """A new service account (and its machine user: no password, no enterprise, no desk role)."""
    require(_may_manage(by), _("Only a manager may manage service accounts."))
    name = _check_name(name)
    user = User(username=f"svc-{uuid.uuid4().hex[:20]}", first_name=name[:150])
    user.set_unusable_password()
    user.save()
    service_account = ServiceAccount.objects.create(user=user, name=name, created_by=by)
    service_account.enterprises.set(enterprises)
    _audit(by=by, action="intake.service_account_create", service_account=service_account,
           after={"name": name, "username": user.username, "enterprises": _scope(service_account)})
    return service_account


@entry_point
def service_account_scope(*, by, service_account: ServiceAccount, enterprises: list[Enterprise]) -> ServiceAccount:
    """Set the enterprises the service account serves (what it may push for)."""
    require(_may_manage(by), _("Only a manager may manage service accounts."))
    service_account = ServiceAccount.objects.select_for_update().get(pk=service_account.pk)
    before = {"enterprises": _scope(service_account)}
    service_account.enterprises.set(enterprises)
    _audit(by=by, action="intake.service_account_scope", service_account=service_account,
           before=before, after={"enterprises": _scope(service_account)})
    return service_account


@entry_point
def service_account_revoke(*, by, service_account: ServiceAccount) -> ServiceAccount:
    """Revoked for good: its user is deactivated and every token it had stops working."""
    require(_may_manage(by), _("Only a manager may manage service accounts."))
    service_account = ServiceAccount.objects.select_for_update().select_related("user").get(pk=service_account.pk)
    if service_account.revoked_at is not None:
        return service_account
    service_account.revoked_at = timezone.now()
    service_account.save(update_fields=["revoked_at"])
    User.objects.filter(pk=service_account.user_id).update(is_active=False)
    revoked = tokens_revoke_all(user=service_account.user, reason="service_account_revoked")
    _audit(by=by, action="intake.service_account_revoke", service_account=service_account,
           after={"revoked_at": service_account.revoked_at, "tokens_revoked": revoked})
    return service_account


@entry_point
def service_account_token_issue(*, by, service_account: ServiceAccount) -> tuple[AuthToken, str]:
    """A new API token for the service account: the instance, and the key (shown once, never stored
    in clear: knox keeps a hash). Valid INTAKE["TOKEN_TTL_DAYS"] days; revoke it with the account."""
    require(_may_manage(by), _("Only a manager may manage service accounts."))
    service_account = ServiceAccount.objects.select_for_update().get(pk=service_account.pk)
    if service_account.revoked_at is not None:
        raise ValidationFailed(_("This service account is revoked."), code="service_account_revoked")
    instance, key = AuthToken.objects.create(user=service_account.user,
                                             expiry=timedelta(days=settings.INTAKE["TOKEN_TTL_DAYS"]))
    _audit(by=by, action="intake.token_issue", service_account=service_account,
           after={"token_key": instance.token_key, "expiry": instance.expiry})
    return instance, key


# --- the push ----------------------------------------------------------------------------


def service_account_of(user) -> ServiceAccount:
    """The caller's own active service account, or 403: nobody else may push."""
    service_account = ServiceAccount.objects.filter(user_id=getattr(user, "pk", None), revoked_at__isnull=True).first()
    if service_account is None or not user.is_active:
        raise PermissionDenied(_("Only an active service account may push incidents."), code="service_account_only")
    return service_account


@entry_point
def incident_push(
    *,
    by,
    platform: str,
    account_id: str,
    banned_at,
    kind: str,
    reason: str = "unknown",
    notice_text: str = "",
    external_id: str = "",
) -> tuple[PushedIncident, bool]:
    """Record a ban incident the enforcement system pushed; (the pushed incident, created).

    The account must belong to an enterprise the service account serves: any other account,
    registered or not, is not found (404), like every read across tenants. A push repeating an
    `external_id` this service account already pushed answers with that incident (created False).
    """
    service_account = service_account_of(by)
    account = (
        MessagingAccount.objects.filter(platform=platform, account_id=account_id,
                                        enterprise__service_accounts=service_account)
        .select_related("enterprise").first()
    )
    if account is None:
        raise NotFound(_("No such account in the enterprises this service account serves."), code="account_not_served")
    external_id = (external_id or "").strip()
    if external_id:
        existing = _pushed(service_account, external_id)
        if existing is not None:
            audit_record(actor=by, action="intake.incident_push_repeat", target_type="appeals.banincident",
                         target_id=existing.incident_id, enterprise_id=existing.incident.enterprise_id,
                         after={"external_id": external_id, "service_account": service_account.pk})
            return existing, False
    try:
        with transaction.atomic():
            incident = incident_record(by=by, account=account, banned_at=banned_at, kind=kind, reason=reason,
                                       notice_text=notice_text,
                                       audit_extra={"source": SOURCE, "service_account": service_account.pk,
                                                    "external_id": external_id})
            pushed = PushedIncident.objects.create(incident=incident, service_account=service_account,
                                                   external_id=external_id)
    except IntegrityError:
        # The same external id pushed at the same instant by another request: that one won.
        existing = _pushed(service_account, external_id) if external_id else None
        if existing is None:
            raise
        return existing, False
    audit_record(actor=by, action="intake.incident_push", target_type="appeals.banincident", target_id=incident.pk,
                 enterprise_id=incident.enterprise_id,
                 after={"source": SOURCE, "service_account": service_account.pk, "external_id": external_id,
                        "account": account.pk})
    return pushed, True


def _pushed(service_account: ServiceAccount, external_id: str) -> PushedIncident | None:
    return (PushedIncident.objects.select_related("incident", "incident__account", "incident__enterprise")
            .filter(service_account=service_account, external_id=external_id).first())
