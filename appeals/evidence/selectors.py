"""Reads for the evidence library, scoped through the user's appeals (tenancy in appeals_for)."""

from django.db.models import QuerySet

from appeals.core.models import Appeal
from appeals.core.selectors import appeal_get
from appeals.evidence.models import AnomalyHour, EvidenceItem, EvidenceKind, LogAnalysis, RiskFlag
from appeals.shared.exceptions import NotFound


def evidence_list(*, appeal: Appeal) -> QuerySet[EvidenceItem]:
    return (
        EvidenceItem.objects.filter(appeal=appeal)
        .select_related("uploaded_by", "analysis", "appeal")
        .defer("analysis__health")  # per account and day: read by log_health only
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


def anomaly_hours(*, appeal: Appeal, operator: str | None = None, min_score: float | None = None) -> QuerySet[AnomalyHour]:
    """The flagged hours of the case's operation logs (the appeal was read through the user's
    selector; the enterprise filter repeats the tenancy on the copied column)."""
    rows = AnomalyHour.objects.filter(appeal=appeal, enterprise_id=appeal.enterprise_id).select_related("evidence")
    if operator:
        rows = rows.filter(operator=operator)
    if min_score is not None:
        rows = rows.filter(score__gte=min_score)
    return rows.order_by("-score", "hour", "id")


def risk_flag_rules(appeal_ids: list[int]) -> dict[int, set[str]]:
    """The risk rules flagged in each case's operation logs (the precedent signal of
    appeals.core.precedents: cases sharing flags are more alike)."""
    from appeals.evidence.models import RiskFlag

    out: dict[int, set[str]] = {}
    for appeal_id, rule in RiskFlag.objects.filter(appeal_id__in=appeal_ids).values_list("appeal_id", "rule").distinct():
        out.setdefault(appeal_id, set()).add(rule)
    return out


def log_health(*, appeal: Appeal, evidence_uuid=None) -> QuerySet[LogAnalysis]:
    """The operation logs of a case with their analyses (account health on each), oldest first;
    the case was fetched through the user's selector (tenancy)."""
    qs = (LogAnalysis.objects.filter(evidence__appeal=appeal, evidence__kind=EvidenceKind.OPERATION_LOG)
          .select_related("evidence", "evidence__appeal").order_by("evidence__uploaded_at", "evidence_id"))
    if evidence_uuid is not None:
        qs = qs.filter(evidence__uuid=evidence_uuid)
    return qs


def health_flags(*, appeal: Appeal) -> QuerySet[RiskFlag]:
    return risk_flags(appeal=appeal).filter(rule__startswith="health_")
