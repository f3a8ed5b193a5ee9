"""The legal-hold panel on the case page (managers set or lift it; others see the state)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.core.models import Role
from appeals.core.selectors import appeal_get
from appeals.records import retention
from appeals.shared.exceptions import DomainError


def render_panel(request, appeal) -> str | None:
    """Desk staff see the legal hold and the retention state; a manager gets the button."""
    user = request.user
    if not (user.is_authenticated and user.is_desk):
        return None
    return render_to_string("records/legal_hold_panel.html", {
        "appeal": appeal,
        "can_change": user.has_role(Role.MANAGER),
        "retention_days": retention.retention_days(),
        "next": request.get_full_path(),
    }, request=request)


@login_required
@require_POST
def legal_hold(request, reference: str):
    appeal = appeal_get(user=request.user, reference=reference)
    hold = request.POST.get("legal_hold") == "on"
    try:
        retention.appeal_set_legal_hold(appeal=appeal, by=request.user, hold=hold, reason=request.POST.get("reason", ""))
        messages.success(request, _("The case is now under legal hold: its personal data is kept.") if hold
                         else _("The legal hold is lifted: the retention clock runs again."))
    except DomainError as exc:
        for detail in dict.fromkeys([m for msgs in exc.fields.values() for m in msgs] or [exc.message]):
            messages.error(request, detail)
    target = request.POST.get("next") or f"/appeals/{appeal.reference}/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    return redirect(target)


urlpatterns = [
    path("appeals/<str:reference>/legal-hold/", legal_hold, name="records-legal-hold"),
]
