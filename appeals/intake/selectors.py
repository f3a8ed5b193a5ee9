"""Intake reads, scoped to who asks: managers see every service account; a service account sees
only what it pushed itself; an enterprise admin sees which of their incidents were pushed."""

from django.db.models import QuerySet

from appeals.core.models import Enterprise, Role
from appeals.intake.models import PushedIncident, ServiceAccount
from appeals.shared.exceptions import NotFound


def _is_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.has_role(Role.MANAGER)))


def service_accounts_for(user) -> QuerySet[ServiceAccount]:
    if not _is_manager(user):
        return ServiceAccount.objects.none()
    return ServiceAccount.objects.select_related("user", "created_by").prefetch_related("enterprises").order_by("name", "id")


def service_account_get(*, user, pk) -> ServiceAccount:
    try:
        return service_accounts_for(user).get(pk=pk)
    except (ServiceAccount.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def enterprises_by_ids(ids) -> list[Enterprise]:
    """The enterprises named in a manager's scope (unknown ids are the serializer's field error)."""
    return list(Enterprise.objects.filter(pk__in=list(ids)))


def pushed_by(user) -> QuerySet[PushedIncident]:
    """What this service account pushed (nothing, for anyone else)."""
    if not user or not user.is_authenticated:
        return PushedIncident.objects.none()
    return (PushedIncident.objects.filter(service_account__user=user, service_account__revoked_at__isnull=True)
            .select_related("incident", "incident__account", "incident__enterprise")
            .prefetch_related("incident__appeals"))


def pushed_labels(incident_ids: list[int]) -> dict[int, str]:
    """Incident source labels for the core's lists (registered by the plug-in)."""
    from django.utils.translation import gettext as _

    pushed = PushedIncident.objects.filter(incident_id__in=incident_ids).values_list("incident_id", flat=True)
    return dict.fromkeys(pushed, _("Pushed by the enforcement system"))
