"""Verification on the web: the case-page panel, its forms, and the email-link landing page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.core.models import AppealState, Role
from appeals.core.selectors import appeal_get
from appeals.core.stepper import StepStatus
from appeals.notifications.models import Channel
from appeals.shared.exceptions import DomainError
from appeals.verification import services
from appeals.verification.selectors import appeal_messages, verification_status


def panel_on_top(appeal) -> bool:
    """Right after submit the two verifications are the applicant's next step: show them first."""
    return appeal.state == AppealState.SUBMITTED


def verify_step_status(appeal) -> StepStatus:
    """The filing path's verify step: each proof still to give, with where it was sent (masked)."""
    todo = []
    for c in verification_status(appeal=appeal):
        if c.state == "verified":
            continue
        if c.channel == Channel.SMS:
            text = _("Enter the SMS code sent to %(to)s") % {"to": c.destination}
            todo.append({"text": text, "href": "#verification-code"})
        else:
            todo.append({"text": _("Open the link sent by email to %(to)s") % {"to": c.destination}, "href": "#verification"})
    return StepStatus(done=not todo, todo=todo)


def render_panel(request, appeal) -> str | None:
    """Verification state, code entry, resends and each message's delivery state."""
    user = request.user
    is_applicant = user.is_authenticated and user.enterprise_id == appeal.enterprise_id
    is_reviewer = user.is_authenticated and user.has_role(Role.FIRST_REVIEWER)
    if not (is_applicant or (user.is_authenticated and user.is_desk)):
        return None
    msgs = list(appeal_messages(appeal=appeal))
    if appeal.state == AppealState.DRAFT and not msgs:
        return None
    awaiting = appeal.state == AppealState.SUBMITTED
    return render_to_string("verification/panel.html", {
        "appeal": appeal,
        "channels": verification_status(appeal=appeal),
        "messages_sent": msgs,
        "awaiting": awaiting,
        "can_answer": awaiting and is_applicant,
        "can_escalate": awaiting and is_reviewer,
        "next": request.get_full_path(),
    }, request=request)



def _back(request):
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    return redirect(target)


@login_required
@require_POST
def case_action(request, reference: str):
    """The panel's forms: enter the code, resend a code or link, escalate (reviewer)."""
    appeal = appeal_get(user=request.user, reference=reference)
    action = request.POST.get("action")
    try:
        if action == "verify_code":
            appeal = services.verification_check_code(appeal=appeal, code=request.POST.get("code", ""), by=request.user)
            messages.success(request, _("Code accepted.") if appeal.state == AppealState.SUBMITTED
                             else _("Both proofs passed: the appeal is now in first review."))
        elif action in ("resend_sms", "resend_email"):
            channel = Channel.SMS if action == "resend_sms" else Channel.EMAIL
            services.verification_resend(appeal=appeal, channel=channel, by=request.user)
            messages.success(request, _("A new code is on its way.") if channel == Channel.SMS else _("A new link is on its way."))
        elif action == "escalate":
            services.verification_escalate(appeal=appeal, by=request.user, reason=request.POST.get("comment", ""))
            messages.success(request, _("Moved to the manual (hotline) channel."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        details = [m for msgs in exc.fields.values() for m in msgs] or [exc.message]
        for detail in dict.fromkeys(details):
            messages.error(request, detail)
    return _back(request)


def _login_url() -> str:
    try:
        return resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:  # the login page arrives with the web pages
        return "/admin/login/"


def email_landing(request, token: str):
    """The page an email link opens. GET only shows; the button POSTs (mail scanners prefetch GETs)."""
    renewed = None
    if request.method == "POST" and request.POST.get("action") == "renew":
        try:
            services.verification_resend_from_link(token=token)
            renewed = True
        except DomainError as exc:
            renewed = exc.message
        check = services.verification_inspect_link(token=token)
    elif request.method == "POST":
        check = services.verification_confirm_email(token=token)
    else:
        check = services.verification_inspect_link(token=token)
    status_code = 200 if check.status in ("valid", "verified") else (400 if check.status == "forged" else 410)
    return render(request, "verification/email_landing.html", {
        "check": check, "status": check.status, "renewed": renewed, "login_url": _login_url(),
    }, status=status_code)


urlpatterns = [
    path("verify/email/<str:token>/", email_landing, name="verification-email-landing"),
    path("appeals/<str:reference>/verification/", case_action, name="verification-case-action"),
]
