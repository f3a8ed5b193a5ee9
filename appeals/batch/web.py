"""Batch review pages for the desk: proposals and groups, one group with its members (exclusion
and split checkboxes), the recommend form, confirm/split, and the progress of a running group
(the page reloads itself while the run goes on). Mounted at the site root."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.batch import selectors, services
from appeals.batch.models import GroupState, MemberStatus, Recommendation
from appeals.core.decisions import outcome_codes
from appeals.core.models import IncidentKind, ReasonCategory, Role
from appeals.shared.exceptions import DomainError, NotFound


def _desk(request):
    if not selectors.may_batch_review(request.user):
        raise PermissionDenied


def _group(request, pk):
    try:
        return selectors.group_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _label(choices, value):
    return choices(value).label if value in choices.values else value


@login_required
def batch_home(request):
    _desk(request)
    proposals = selectors.batch_proposals(user=request.user)
    for p in proposals:
        p.kind_label, p.reason_label = _label(IncidentKind, p.kind), _label(ReasonCategory, p.reason)
    groups = Paginator(selectors.groups_for(request.user), 25).get_page(request.GET.get("page"))
    for g in groups.object_list:
        g.kind_label, g.reason_label = _label(IncidentKind, g.kind), _label(ReasonCategory, g.reason)
    return render(request, "appeals/batch/home.html", {"proposals": proposals, "groups": groups})


@login_required
@require_POST
def batch_create(request):
    _desk(request)
    try:
        group = services.batch_group_create(by=request.user, references=request.POST.getlist("references"))
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *[m for ms in exc.fields.values() for m in ms]]))
        return redirect("batch-home")
    messages.success(request, _("Batch group created."))
    return redirect("batch-detail", pk=group.pk)


@login_required
def batch_detail(request, pk):
    _desk(request)
    group = _group(request, pk)
    user = request.user
    progress = selectors.batch_progress(group=group)
    members = list(selectors.group_members(group=group))
    codes = [(c.code, c.get_outcome_display(), c.text("label", request.LANGUAGE_CODE)) for c in outcome_codes()]
    return render(request, "appeals/batch/detail.html", {
        "group": group, "members": members, "progress": progress,
        "kind_label": _label(IncidentKind, group.kind), "reason_label": _label(ReasonCategory, group.reason),
        "counts": selectors.member_counts(group=group),
        "can_recommend": group.state == GroupState.OPEN and user.has_role(Role.FIRST_REVIEWER),
        "can_confirm": group.state == GroupState.RECOMMENDED and user.has_role(Role.SECOND_REVIEWER)
        and group.recommended_by_id != user.pk,
        "own_recommendation": group.recommended_by_id == user.pk,
        "recommendations": Recommendation.choices,
        "codes": codes,
        "outcome_label": next((label for code, _o, label in codes if code == group.outcome_code), group.outcome_code),
        "S": MemberStatus,
    })


def _verb(service, done_message, **fixed):
    @login_required
    @require_POST
    def view(request, pk):
        _desk(request)
        group = _group(request, pk)
        try:
            service(by=request.user, group=group, **{k: fn(request) for k, fn in fixed.items()})
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *[m for ms in exc.fields.values() for m in ms]]))
        else:
            messages.success(request, done_message())
        return redirect("batch-detail", pk=group.pk)

    return view


batch_recommend = _verb(
    services.batch_recommend, lambda: _("Recommendation recorded; the cases are moving."),
    recommendation=lambda r: r.POST.get("recommendation", ""), outcome_code=lambda r: r.POST.get("outcome_code", ""),
    comment=lambda r: r.POST.get("comment", "")[:4000], exclude=lambda r: r.POST.getlist("selected"),
)
batch_confirm = _verb(services.batch_confirm, lambda: _("Confirmed; the cases are being decided."))
batch_split = _verb(
    services.batch_split, lambda: _("The selected cases were split off for individual review."),
    references=lambda r: r.POST.getlist("selected"), comment=lambda r: r.POST.get("comment", "")[:4000],
)


urlpatterns = [
    path("batch/", batch_home, name="batch-home"),
    path("batch/create/", batch_create, name="batch-create"),
    path("batch/<int:pk>/", batch_detail, name="batch-detail"),
    path("batch/<int:pk>/recommend/", batch_recommend, name="batch-recommend"),
    path("batch/<int:pk>/confirm/", batch_confirm, name="batch-confirm"),
    path("batch/<int:pk>/split/", batch_split, name="batch-split"),
]
