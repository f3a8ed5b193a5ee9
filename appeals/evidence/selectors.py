"""Reads for the evidence library, scoped through the user's appeals (tenancy in appeals_for)."""

from django.db.models import QuerySet

from appeals.core.models import Appeal
from appeals.core.selectors import appeal_get
from appeals.evidence.models import EvidenceItem, RiskFlag
from appeals.shared.exceptions import NotFound


def evidence_list(*, appeal: Appeal) -> QuerySet[EvidenceItem]:
    return (
        EvidenceItem.objects.filter(appeal=appeal)
        .select_related("uploaded_by", "analysis", "appeal")
        .order_by("group", "kind", "uploaded_at", "id")
    )


def evidence_get(*, user, reference: str, uuid) -> EvidenceItem:
    """Another tenant's file (or a file of a case the user may not see) is simply not found."""
    appeal = appeal_get(user=user, reference=reference)
    try:
        return evidence_list(appeal=appeal).get(uuid=uuid)
    except (EvidenceItem.DoesNotExist, ValueError):
        raise NotFound() from None


def risk_flags(*, appeal: Appeal) -> QuerySet[RiskFlag]:
    return RiskFlag.objects.filter(appeal=appeal).select_related("evidence").order_by("rule", "window_start", "id")
