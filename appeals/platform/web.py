"""Pages of the platform connection: the enterprise's WeCom app (connect, replace the secret,
disconnect) and the case-page panel (pull the records, watch the progress, or upload an export)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.core.selectors import appeal_get
from appeals.evidence.services import ADDABLE_STATES
from appeals.platform import services
from appeals.platform.models import PullState
from appeals.platform.selectors import connection_of, pulls_of
from appeals.shared.exceptions import DomainError

PULLS_SHOWN = 5


def _report(request, exc: DomainError) -> None:
    for detail in dict.fromkeys([m for msgs in exc.fields.values() for m in msgs] or [exc.message]):
        messages.error(request, detail)


@login_required
def connection_page(request):
    """The enterprise admin's WeCom settings: connect once, replace the secret, disconnect."""
    if not request.user.enterprise_id:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        connection = connection_of(request.user)
        try:
            if action == "connect":
                services.wecom_connect(by=request.user, corp_id=request.POST.get("corp_id", ""),
                                       corp_secret=request.POST.get("corp_secret", ""))
                messages.success(request, _("The WeCom app is connected. Its secret is stored encrypted and will not be shown again."))
            elif action == "rotate" and connection:
                services.wecom_rotate_secret(connection=connection, by=request.user,
                                             corp_secret=request.POST.get("corp_secret", ""))
                messages.success(request, _("The secret was replaced."))
            elif action == "disconnect" and connection:
                services.wecom_disconnect(connection=connection, by=request.user)
                messages.success(request, _("The WeCom app is disconnected; its credentials are deleted."))
        except DomainError as exc:
            _report(request, exc)
        return redirect("platform-wecom")
    return render(request, "platform/wecom_connection.html", {"connection": connection_of(request.user)})


@login_required
@require_POST
def pull_start(request, reference: str):
    appeal = appeal_get(user=request.user, reference=reference)
    try:
        services.wecom_pull_start(appeal=appeal, by=request.user)
        messages.success(request, _("Pulling the operation records from WeCom; progress is shown below."))
    except DomainError as exc:
        _report(request, exc)
    return redirect(reverse("appeal_detail", kwargs={"reference": appeal.reference}) + "#wecom")


@login_required
@require_POST
def records_upload(request, reference: str):
    appeal = appeal_get(user=request.user, reference=reference)
    try:
        services.wecom_records_upload(appeal=appeal, by=request.user, file=request.FILES.get("file"))
        messages.success(request, _("The operation records were added to the evidence; the analysis runs now."))
    except DomainError as exc:
        _report(request, exc)
    return redirect(reverse("appeal_detail", kwargs={"reference": appeal.reference}) + "#wecom")


def render_panel(request, appeal) -> str | None:
    """Admins of the appeal's enterprise: pull or upload. Desk staff: what was pulled (the flags are in the evidence panel)."""
    user = request.user
    is_owner = user.is_authenticated and user.enterprise_id == appeal.enterprise_id
    pulls = list(pulls_of(appeal=appeal)[:PULLS_SHOWN])
    if not is_owner and not pulls:
        return None
    active = next((p for p in pulls if p.state in (PullState.QUEUED, PullState.RUNNING)), None)
    return render_to_string("platform/wecom_panel.html", {
        "appeal": appeal,
        "pulls": pulls,
        "active": active,
        "progress_url": reverse("api-wecom-pull-detail", kwargs={"reference": appeal.reference, "pk": active.pk}) if active else "",
        "is_owner": is_owner,
        "connection": connection_of(user) if is_owner else None,
        "can_add": is_owner and appeal.state in ADDABLE_STATES,
        "pull_url": reverse("platform-wecom-pull", kwargs={"reference": appeal.reference}),
        "upload_url": reverse("platform-wecom-upload", kwargs={"reference": appeal.reference}),
        "settings_url": reverse("platform-wecom"),
    }, request=request)


urlpatterns = [
    path("platform/wecom/", connection_page, name="platform-wecom"),
    path("appeals/<str:reference>/wecom-pull/", pull_start, name="platform-wecom-pull"),
    path("appeals/<str:reference>/wecom-records/", records_upload, name="platform-wecom-upload"),
]
