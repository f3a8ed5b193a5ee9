"""The case page's precedents panel: for the review desk while the case is in review."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from appeals.core.models import IncidentKind, ReasonCategory
from appeals.core.precedents import IN_REVIEW, may_see_precedents, precedents_for


def render(request, appeal) -> str | None:
    if appeal.state not in IN_REVIEW or not may_see_precedents(request.user):
        return None
    zh = (get_language() or "").lower().startswith("zh")
    rows = precedents_for(user=request.user, appeal=appeal)
    for row in rows:
        row["url"] = reverse("appeal_detail", kwargs={"reference": row["reference"]})
        row["kind_label"] = IncidentKind(row["kind"]).label
        row["reason_label"] = ReasonCategory(row["reason"]).label
        row["outcome_label"] = row["outcome_label_zh"] if zh else row["outcome_label_en"]
        row["decision_reason"] = row["decision_reason_zh"] if zh else row["decision_reason_en"]
    return render_to_string("appeals/partials/precedents_panel.html", {"appeal": appeal, "precedents": rows}, request=request)
