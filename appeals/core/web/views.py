"""Server-rendered pages for the three kinds of user: applicants, reviewers, managers.

Reads go through appeals.core.selectors (so another tenant's case is a 404), writes through
the services; a DomainError comes back to the user as a form error, never a 500.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from appeals.core import decisions, selectors
from appeals.core.models import AppealState
from appeals.core.panels import render_panels_placed
from appeals.core.services import appeals as appeal_services
from appeals.core.services.filing import appeal_file
from appeals.core.stepper import appeal_stepper
from appeals.core.web.forms import ActionForm, AppealFilterForm, NewAppealForm, add_domain_error
from appeals.core.workflow import TABLE, Action, available_actions, first_review_recommenders
from appeals.shared.exceptions import DomainError, NotFound
from appeals.shared.replica import configured as replica_configured
from appeals.shared.replica import replica_reads, tolerates_lag

PAGE_SIZE = 20


# --- access -------------------------------------------------------------------------------


def _role_required(test):
    """Logged-in users who fail the test get 403; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


applicant_required = _role_required(lambda u: u.is_enterprise_admin)
first_reviewer_required = _role_required(lambda u: u.is_superuser or u.is_first_reviewer)
second_reviewer_required = _role_required(lambda u: u.is_superuser or u.is_second_reviewer)
manager_required = _role_required(lambda u: u.is_superuser or u.is_manager)


def _appeal_or_404(request, reference):
    try:
        return selectors.appeal_get(user=request.user, reference=reference)
    except NotFound:
        raise Http404 from None


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def home(request):
    user = request.user
    if user.is_enterprise_admin:
        return redirect("dashboard")
    if user.is_superuser or user.is_manager:
        return redirect("manager")
    if user.is_first_reviewer:
        return redirect("queue_first")
    if user.is_second_reviewer:
        return redirect("queue_second")
    return redirect("appeal_list")


# --- applicant ----------------------------------------------------------------------------


@applicant_required
@tolerates_lag  # a dashboard: may read the replica (the page after a submit is the case page, on the primary)
def dashboard(request):
    user = request.user
    enterprise = selectors.enterprises_for(user).get()
    return render(request, "appeals/dashboard.html", {
        "enterprise": enterprise,
        "recent": selectors.appeals_for(user).order_by("-created_at", "-id")[:10],
        "counts": selectors.appeal_state_counts(user=user),
        "accounts": selectors.accounts_of_enterprise(user=user),
        "ready": selectors.with_incident_sources(selectors.incidents_ready_to_appeal(user)[:READY_TO_APPEAL_SHOWN]),
    })


READY_TO_APPEAL_SHOWN = 10


def _incident_to_appeal(request):
    """The incident named by ?incident= (or the posted field): one of the applicant's own with no
    appeal yet, or a 404."""
    pk = request.POST.get("incident") or request.GET.get("incident")
    if not pk:
        return None
    incident = selectors.incidents_ready_to_appeal(request.user).filter(pk=pk).first() if str(pk).isdigit() else None
    if incident is None:
        raise Http404
    return selectors.with_incident_sources([incident])[0]


@applicant_required
def appeal_new(request):
    user = request.user
    enterprise = selectors.enterprises_for(user).get()
    accounts = selectors.accounts_of_enterprise(user=user)
    incident = _incident_to_appeal(request)
    form = NewAppealForm(request.POST or None, accounts=accounts, enterprise=enterprise, incident=incident)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if incident is not None:
                    # Appeal this incident (pushed by the enforcement system): the appeal links to it.
                    appeal = appeal_services.appeal_create(by=user, incident=incident, statement=data["statement"],
                                                           contact_phone=data["contact_phone"])
                else:
                    appeal = appeal_file(
                        by=user, account=data["account"], banned_at=data["banned_at"], kind=data["kind"],
                        reason=data["reason"], notice_text=data["notice_text"], statement=data["statement"],
                        contact_phone=data["contact_phone"],
                    )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                if "submit_now" in request.POST:
                    try:
                        appeal = appeal_services.appeal_submit(appeal=appeal, by=user)
                    except DomainError as exc:
                        # The draft is saved; the case page lists why it could not go further, one item a line.
                        messages.error(request, _("Draft %(ref)s saved but not submitted. What is still needed is listed below, each item linked to its place.") % {"ref": appeal.reference})
                        request.session[_refusals_key(appeal.reference)] = refusal_items(exc)
                        return redirect("appeal_detail", reference=appeal.reference)
                    messages.success(request, _("Appeal %(ref)s submitted.") % {"ref": appeal.reference})
                else:
                    messages.success(request, _("Draft %(ref)s saved. Check it, then submit it.") % {"ref": appeal.reference})
                return redirect("appeal_detail", reference=appeal.reference)
        else:
            status = 400
    return render(request, "appeals/appeal_new.html", {
        "form": form, "enterprise": enterprise, "emergency": request.GET.get("emergency") == "1", "incident": incident,
    }, status=status)


def _refusals_key(reference: str) -> str:
    return f"refusals:{reference}"


def refusal_items(exc: DomainError) -> list[dict]:
    """A refused submit as a list, one item per missing thing: {"text", "href"}. Missing evidence
    (the guard names each kind) links to its slot on the evidence panel (id="slot-<kind>")."""
    items = [{"text": str(m["label"]), "href": f"#slot-{m['kind']}"} for m in exc.extra.get("missing") or []]
    linked = {"evidence"} if items else set()
    for name, ms in (exc.fields or {}).items():
        if name in linked:
            continue
        for m in [ms] if isinstance(ms, str) else ms:
            items.append({"text": str(m), "href": ""})
    return items or [{"text": exc.message, "href": ""}]


# --- cases --------------------------------------------------------------------------------


@login_required
def appeal_list(request):
    form = AppealFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    search = {k: v for k, v in filters.items() if v}
    # A search may read the replica; the plain list (where a new draft is looked for) stays on the primary.
    with replica_reads() if search and replica_configured() else nullcontext():
        appeals = selectors.appeals_filtered(user=request.user, **search)
        return render(request, "appeals/appeal_list.html", {
            "form": form, "page": _page(request, appeals), "query": _query_without_page(request),
        }, status=200 if not form.is_bound or form.is_valid() else 400)


# Which service carries out each web action (ACCEPT is the system's and has none).
_FIRST = {v: k for k, v in appeal_services.FirstReviewDecision.ACTIONS.items()}
_SECOND = {v: k for k, v in appeal_services.SecondReviewDecision.ACTIONS.items()}
_MANAGER = {v: k for k, v in appeal_services.ManagerDecision.ACTIONS.items()}


def perform_action(*, appeal, user, action: str, comment: str, assignee, outcome_code: str = ""):
    s = appeal_services
    if action == Action.SUBMIT:
        return s.appeal_submit(appeal=appeal, by=user)
    if action == Action.WITHDRAW:
        return s.appeal_withdraw(appeal=appeal, by=user, comment=comment)
    if action == Action.RESUBMIT:
        return s.appeal_resubmit(appeal=appeal, by=user, comment=comment)
    if action in (Action.CLAIM_FIRST, Action.CLAIM_SECOND):
        if (action == Action.CLAIM_SECOND) != (appeal.state == AppealState.SECOND_REVIEW):
            # The page was stale: let the workflow name the state and the action.
            return s.appeal_act(appeal=appeal, action=action, by=user)
        return s.appeal_claim(appeal=appeal, by=user)
    if action in _FIRST:
        return s.appeal_first_review(appeal=appeal, by=user, decision=_FIRST[action], comment=comment)
    if action in _SECOND:
        return s.appeal_second_review(appeal=appeal, by=user, decision=_SECOND[action], comment=comment,
                                      outcome_code=outcome_code)
    if action in _MANAGER:
        return s.appeal_decide_escalated(appeal=appeal, by=user, decision=_MANAGER[action], comment=comment,
                                         outcome_code=outcome_code)
    if action == Action.REASSIGN:
        return s.appeal_reassign(appeal=appeal, by=user, assignee=assignee, comment=comment)
    return s.appeal_act(appeal=appeal, action=action, by=user, comment=comment)


def _outcome_choices() -> list[dict]:
    """The outcome code catalogue for the decision form, in the page's language."""
    return decisions.catalogue_for(get_language() or "")


def _stage_role_field(appeal) -> str:
    return "is_second_reviewer" if appeal.state == AppealState.SECOND_REVIEW else "is_first_reviewer"


@dataclass
class ActionGroup:
    """One form on the case page: a set of related actions the user may take now."""

    key: str
    title: str
    actions: list[Action]
    choice: bool = False  # several actions: pick one with a radio button
    comment: bool = False
    assignee: bool = False
    outcome_codes: list = field(default_factory=list)  # a final decision: pick the reasoned outcome
    form: ActionForm | None = None
    options: list[dict] = field(default_factory=list)


def _action_groups(appeal, user, bound: ActionForm | None, posted_action: str | None) -> list[ActionGroup]:
    """The forms this user may use on this case now, grouped the way people decide.

    The workflow says which actions the role may take in this state; the claim checks here
    only hide buttons that would certainly be refused (the guards still decide).
    """
    allowed = set(available_actions(appeal, user))
    recommenders = first_review_recommenders(appeal) if appeal.state in (AppealState.SECOND_REVIEW, AppealState.ESCALATED) else set()
    first = [a for a in (Action.RECOMMEND_APPROVE, Action.RECOMMEND_REJECT, Action.REQUEST_INFO, Action.ESCALATE) if a in allowed]
    second = [a for a in (Action.APPROVE, Action.REJECT, Action.RETURN) if a in allowed]
    manager = [a for a in (Action.DECIDE_APPROVE, Action.DECIDE_REJECT) if a in allowed]

    groups = []
    if Action.SUBMIT in allowed:
        groups.append(ActionGroup("submit", gettext_lazy("Submit the appeal"), [Action.SUBMIT]))
    if Action.RESUBMIT in allowed:
        groups.append(ActionGroup("resubmit", gettext_lazy("Send the information asked for"), [Action.RESUBMIT], comment=True))
    if Action.CLAIM_FIRST in allowed and appeal.first_reviewer_id is None:
        groups.append(ActionGroup("claim", gettext_lazy("Take this case"), [Action.CLAIM_FIRST]))
    if Action.CLAIM_SECOND in allowed and appeal.second_reviewer_id is None and user.pk not in recommenders:
        groups.append(ActionGroup("claim", gettext_lazy("Take this case"), [Action.CLAIM_SECOND]))
    if first and appeal.first_reviewer_id == user.pk:
        groups.append(ActionGroup("decision", gettext_lazy("First review decision"), first, choice=True, comment=True))
    if second and appeal.second_reviewer_id == user.pk:
        groups.append(ActionGroup("decision", gettext_lazy("Second review decision"), second, choice=True, comment=True,
                                  outcome_codes=_outcome_choices()))
    if manager and user.pk not in recommenders:
        groups.append(ActionGroup("decision", gettext_lazy("Decide the escalated case"), manager, choice=True, comment=True,
                                  outcome_codes=_outcome_choices()))
    if Action.REASSIGN in allowed:
        groups.append(ActionGroup("reassign", gettext_lazy("Reassign the reviewer"), [Action.REASSIGN], comment=True, assignee=True))
    if Action.WITHDRAW in allowed:
        groups.append(ActionGroup("withdraw", gettext_lazy("Withdraw the appeal"), [Action.WITHDRAW], comment=True))

    # The second stage is never offered to anyone who recommended in a first review of the
    # case, now or before a return (the guard would refuse).
    assignees = selectors.reviewers(role_field=_stage_role_field(appeal))
    if appeal.state == AppealState.SECOND_REVIEW:
        assignees = assignees.exclude(pk__in=recommenders)
    for group in groups:
        group.options = [
            {"value": a.value, "label": a.label, "comment_required": TABLE[(appeal.state, a)].comment_required}
            for a in group.actions
        ]
        posted_here = bound is not None and posted_action in {a.value for a in group.actions}
        group.form = bound if posted_here else ActionForm(assignees=assignees)
    if bound is not None and not any(g.form is bound for g in groups):
        # The posted action is no longer on offer (the case moved on): show why on top.
        groups.insert(0, ActionGroup("error", _("Your last action"), [], form=bound))
    return groups


@login_required
def appeal_detail(request, reference):
    user = request.user
    appeal = _appeal_or_404(request, reference)
    bound = None
    status = 200
    refusals = request.session.pop(_refusals_key(appeal.reference), None) if request.method == "GET" else None
    if request.method == "POST":
        bound = ActionForm(request.POST, assignees=selectors.reviewers(role_field=_stage_role_field(appeal)))
        if bound.is_valid():
            data = bound.cleaned_data
            try:
                appeal = perform_action(
                    appeal=appeal, user=user, action=data["action"], comment=data["comment"], assignee=data["assignee"],
                    outcome_code=data["outcome_code"],
                )
            except DomainError as exc:
                add_domain_error(bound, exc)
                status = exc.status
                if data["action"] == Action.SUBMIT:
                    refusals = refusal_items(exc)
                appeal = _appeal_or_404(request, reference)
            else:
                messages.success(request, _("%(action)s: done. The case is now %(state)s.") % {
                    "action": Action(data["action"]).label, "state": appeal.get_state_display(),
                })
                target = request.POST.get("next", "")
                if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
                    return redirect(target)
                return redirect("appeal_detail", reference=appeal.reference)
        else:
            status = 400
    incident = appeal.incident
    timeline = list(selectors.appeal_timeline(appeal=appeal))
    for event in timeline:
        # Capabilities may log their own actions; show those by name.
        event.action_label = Action(event.action).label if event.action in Action.values else event.action
    question = None
    if appeal.state == AppealState.NEEDS_INFO:
        # The reviewer's latest request for information, shown above the reply form.
        question = next((e for e in reversed(timeline) if e.action == Action.REQUEST_INFO), None)
    top_panels, panels = render_panels_placed(request, appeal)
    return render(request, "appeals/appeal_detail.html", {
        "appeal": appeal,
        "incident": incident,
        "prior_incidents": selectors.prior_incidents(incident=incident),
        "prior_incident_days": settings.APPEALS["PRIOR_INCIDENT_LOOKBACK_DAYS"],
        "timeline": timeline,
        "groups": _action_groups(appeal, user, bound, request.POST.get("action") if bound is not None else None),
        "top_panels": [mark_safe(html) for html in top_panels],  # noqa: S308 - panels render their own escaped templates
        "panels": [mark_safe(html) for html in panels],  # noqa: S308
        "stepper": appeal_stepper(appeal, applicant=user.enterprise_id == appeal.enterprise_id),
        "question": question,
        "refusals": refusals,
    }, status=status)


# --- review desk --------------------------------------------------------------------------


def _search_term(request) -> str:
    return request.GET.get("search", "").strip()[:100]


def _queue(request, queryset, stage: str, title):
    return render(request, "appeals/queue.html", {
        "page": _page(request, queryset), "stage": stage, "title": title, "query": _query_without_page(request),
        "search": _search_term(request),
        "claim_action": Action.CLAIM_SECOND if stage == "second" else Action.CLAIM_FIRST,
    })


@first_reviewer_required
def queue_first(request):
    return _queue(request, selectors.first_review_queue(user=request.user, search=_search_term(request)), "first", _("First review queue"))


@second_reviewer_required
def queue_second(request):
    return _queue(request, selectors.second_review_queue(user=request.user, search=_search_term(request)), "second", _("Second review queue"))


@manager_required
@tolerates_lag  # a dashboard: may read the replica
def manager(request):
    user = request.user
    counts = selectors.appeal_state_counts(user=user)
    in_review = list(selectors.appeals_for(user).filter(
        state__in=[AppealState.FIRST_REVIEW, AppealState.SECOND_REVIEW]
    ).order_by("submitted_at", "id")[:50])
    # Second review is never offered to anyone who recommended in a first review of the case.
    recommenders = selectors.first_review_recommenders_of([a.pk for a in in_review if a.state == AppealState.SECOND_REVIEW])
    for appeal in in_review:
        appeal.excluded_reviewers = recommenders.get(appeal.pk, set()) | {appeal.first_reviewer_id}
    return render(request, "appeals/manager.html", {
        "counts": [(AppealState(state).label, state, n) for state, n in counts.items()],
        "escalated": selectors.escalated_cases(user=user)[:50],
        "in_review": in_review,
        "first_reviewers": list(selectors.reviewers(role_field="is_first_reviewer")),
        "second_reviewers": list(selectors.reviewers(role_field="is_second_reviewer")),
    })
