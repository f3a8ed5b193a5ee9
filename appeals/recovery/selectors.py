"""Reads of the recovery plan, scoped through the user's appeals (tenancy in appeals_for)."""

from django.db.models import QuerySet

from appeals.core.models import Appeal, Role
from appeals.recovery.models import RecoveryPlan, RecoveryStep, RecoveryStepTemplate
from appeals.shared.exceptions import NotFound, PermissionDenied


def recovery_plan_for(*, appeal: Appeal) -> RecoveryPlan | None:
    """The plan of an appeal the caller already read through appeal_get (so: may see)."""
    return RecoveryPlan.objects.filter(appeal=appeal).first()


def recovery_steps(*, plan: RecoveryPlan) -> QuerySet[RecoveryStep]:
    return plan.steps.select_related("done_by").order_by("order", "id")


def recovery_templates(*, user, kind: str | None = None) -> QuerySet[RecoveryStepTemplate]:
    if not (user and user.is_authenticated and user.has_role(Role.MANAGER)):
        raise PermissionDenied(code="permission_denied")
    qs = RecoveryStepTemplate.objects.order_by("kind", "order", "id")
    return qs.filter(kind=kind) if kind else qs


def recovery_template_get(*, user, pk) -> RecoveryStepTemplate:
    try:
        return recovery_templates(user=user).get(pk=pk)
    except (RecoveryStepTemplate.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
