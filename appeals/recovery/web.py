"""The recovery pages: the self-check panel (above the submit button while the appeal is a
draft), the plan panel with its checklist (applicant and desk), and the managers' page for
the step templates."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.core.models import AppealState, IncidentKind, Role
from appeals.core.selectors import appeal_get
from appeals.recovery import selectors, selfcheck, services
from appeals.recovery.models import Anchor, RecoveryStepTemplate
from appeals.shared.exceptions import DomainError, NotFound

PRE_SUBMIT_STATES = (AppealState.DRAFT, AppealState.NEEDS_INFO)


def _language() -> str:
    return get_language() or "en"


# --- the case page's panels --------------------------------------------------------------------


def self_check_on_top(appeal) -> bool:
    return appeal.state in PRE_SUBMIT_STATES


def render_self_check_panel(request, appeal) -> str | None:
    """The applicant's warnings about their log, before they submit (or resubmit)."""
    user = request.user
    if appeal.state not in PRE_SUBMIT_STATES or not services.is_applicant(user, appeal):
        return None
    check = selfcheck.self_check(appeal=appeal, language=_language())
    return render_to_string("recovery/self_check_panel.html", {"appeal": appeal, "check": check}, request=request)


def _step_rows(plan, language: str) -> list[dict]:
    today = timezone.localdate()
    rows = []
    for step in selectors.recovery_steps(plan=plan):
        rows.append({
            "step": step, "title": step.text("title", language), "text": step.text("text", language),
            "running": bool(step.starts_on and step.ends_on and step.starts_on <= today < step.ends_on),
            "waiting": step.starts_on is None,
        })
    return rows


def render_plan_panel(request, appeal) -> str | None:
    user = request.user
    if not services.may_see(user, appeal):
        return None
    plan = selectors.recovery_plan_for(appeal=appeal)
    applicant = services.is_applicant(user, appeal)
    return render_to_string("recovery/plan_panel.html", {
        "appeal": appeal, "plan": plan, "applicant": applicant,
        "rows": _step_rows(plan, _language()) if plan else [],
        "restored": appeal.state == AppealState.APPROVED,
        "rejected": appeal.state == AppealState.REJECTED,
    }, request=request)


def _back(appeal):
    return redirect(reverse("appeal_detail", kwargs={"reference": appeal.reference}) + "#recovery-plan")


def _report(request, exc: DomainError) -> None:
    for detail in dict.fromkeys([m for msgs in exc.fields.values() for m in msgs] or [exc.message]):
        messages.error(request, detail)


@login_required
@require_POST
def plan_build(request, reference: str):
    appeal = appeal_get(user=request.user, reference=reference)
    try:
        services.recovery_plan_build(appeal=appeal, by=request.user)
        messages.success(request, _("Your recovery plan is ready, with its dates."))
    except DomainError as exc:
        _report(request, exc)
    return _back(appeal)


@login_required
@require_POST
def step_tick(request, reference: str, step_id: int):
    appeal = appeal_get(user=request.user, reference=reference)
    try:
        services.recovery_step_tick(appeal=appeal, by=request.user, step_id=step_id, done=request.POST.get("done") == "on")
    except DomainError as exc:
        _report(request, exc)
    return _back(appeal)


# --- the managers' templates -------------------------------------------------------------------


class TemplateForm(forms.ModelForm):
    class Meta:
        model = RecoveryStepTemplate
        fields = ["kind", "order", "anchor", "title_en", "title_zh", "text_en", "text_zh", "offset_days", "duration_days",
                  "remind_at_end", "active"]
        widgets = {"text_en": forms.Textarea(attrs={"rows": 3}), "text_zh": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "anchor": gettext_lazy("Before the decision, steps count from the ban; after a decision restoring the "
                                   "account, from the decision."),
            "duration_days": gettext_lazy("A rest or pause period; 0 for a one-off step."),
            "remind_at_end": gettext_lazy("Email and SMS to the applicant when the period ends (restored cases only)."),
        }


def _manager(request) -> None:
    if not (request.user.is_authenticated and request.user.has_role(Role.MANAGER)):
        raise DjangoPermissionDenied


@login_required
def template_list(request):
    _manager(request)
    language = _language()
    kinds = []
    templates = list(selectors.recovery_templates(user=request.user))
    for value, label in IncidentKind.choices:
        rows = [{"t": t, "title": t.text("title", language), "text": t.text("text", language)}
                for t in templates if t.kind == value]
        kinds.append({"value": value, "label": label, "rows": rows})
    return render(request, "recovery/template_list.html", {"kinds": kinds, "Anchor": Anchor})


def _save(request, form, template):
    if form.is_valid():
        try:
            services.recovery_template_save(by=request.user, template=template, **form.cleaned_data)
        except DomainError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Step template saved. It applies to plans made from now on."))
            return redirect(reverse("recovery-templates") + f"#kind-{form.cleaned_data['kind']}")
    return None


@login_required
def template_new(request):
    _manager(request)
    form = TemplateForm(request.POST or None, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and (done := _save(request, form, None)):
        return done
    return render(request, "recovery/template_form.html", {"form": form, "template": None},
                  status=400 if request.method == "POST" else 200)


@login_required
def template_edit(request, pk: int):
    _manager(request)
    try:
        template = selectors.recovery_template_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    form = TemplateForm(request.POST or None, instance=RecoveryStepTemplate.objects.get(pk=template.pk))
    if request.method == "POST" and (done := _save(request, form, template)):
        return done
    return render(request, "recovery/template_form.html", {"form": form, "template": template},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def template_delete(request, pk: int):
    _manager(request)
    try:
        template = selectors.recovery_template_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    services.recovery_template_delete(by=request.user, template=template)
    messages.success(request, _("Step template removed. Plans already made keep their copy of the step."))
    return redirect("recovery-templates")


urlpatterns = [
    path("appeals/<str:reference>/recovery-plan/", plan_build, name="recovery-plan-build"),
    path("appeals/<str:reference>/recovery-plan/steps/<int:step_id>/", step_tick, name="recovery-step-tick"),
    path("recovery/templates/", template_list, name="recovery-templates"),
    path("recovery/templates/new/", template_new, name="recovery-template-new"),
    path("recovery/templates/<int:pk>/", template_edit, name="recovery-template-edit"),
    path("recovery/templates/<int:pk>/delete/", template_delete, name="recovery-template-delete"),
]
