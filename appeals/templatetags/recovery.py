"""{% time_to_recovery as ttr %}: the manager dashboard's time-to-recovery figures (appeals.sla.recovery),
for the current user (tenant-scoped), the last twelve months; None for users who may not see them."""

from django import template

from appeals.core.models import IncidentKind
from appeals.shared.exceptions import DomainError
from appeals.sla import recovery

register = template.Library()


@register.simple_tag(takes_context=True)
def time_to_recovery(context) -> dict | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        filters = recovery.recovery_filters(user=user, params=request.GET)
    except DomainError:
        return None
    report = recovery.time_to_recovery(user=user, filters=filters)
    for row in (*report["by_kind"], *report["rows"]):
        row["kind_label"] = IncidentKind(row["kind"]).label
    top = max([r["median_h"] or 0 for r in report["by_month"]] + [1])
    for row in report["by_month"]:
        row["bar_pct"] = round(100.0 * (row["median_h"] or 0) / top)
    return report
