"""The appeal workflow as data: (state, action) -> next state, the role allowed, and rules.

`apply_transition` is the only code that changes an appeal's state. It locks the row,
checks the table, runs the guards, applies the effects, writes the timeline event and
the audit event, and tells the listeners, all in one transaction.

Other capabilities plug in without touching the table: `register_guard(action, fn)` adds
a rule (evidence completeness, verification), `register_listener(fn)` reacts to every
transition inside the same transaction (notifications, SLA clocks, surge counters).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.audit.services import audit_record
from appeals.core.models import Appeal, AppealEvent, AppealState, Role
from appeals.shared.exceptions import GuardFailed, InvalidTransition, PermissionDenied, ValidationFailed

S = AppealState


class Action(models.TextChoices):
    SUBMIT = "submit", gettext_lazy("Submit")
    ACCEPT = "accept", gettext_lazy("Accept into first review")
    WITHDRAW = "withdraw", gettext_lazy("Withdraw")
    RESUBMIT = "resubmit", gettext_lazy("Resubmit")
    CLAIM_FIRST = "claim_first", gettext_lazy("Claim for first review")
    RECOMMEND_APPROVE = "recommend_approve", gettext_lazy("Recommend approval")
    RECOMMEND_REJECT = "recommend_reject", gettext_lazy("Recommend rejection")
    REQUEST_INFO = "request_info", gettext_lazy("Request information")
    ESCALATE = "escalate", gettext_lazy("Escalate to hotline")
    CLAIM_SECOND = "claim_second", gettext_lazy("Claim for second review")
    APPROVE = "approve", gettext_lazy("Approve")
    REJECT = "reject", gettext_lazy("Reject")
    RETURN = "return_to_first", gettext_lazy("Return to first review")
    DECIDE_APPROVE = "decide_approve", gettext_lazy("Decide: approve")
    DECIDE_REJECT = "decide_reject", gettext_lazy("Decide: reject")
    REASSIGN = "reassign", gettext_lazy("Reassign")
    AUTO_APPROVE = "auto_approve", gettext_lazy("Approve automatically (rule)")
    REOPEN = "reopen", gettext_lazy("Reopen an automated decision")


# --- effects: what a transition does to the row besides moving its state ---------------


def _submitted(appeal, by, data):
    appeal.submitted_at = appeal.submitted_at or timezone.now()


def _claim_first(appeal, by, data):
    appeal.first_reviewer = by


def _claim_second(appeal, by, data):
    appeal.second_reviewer = by


def _remember_stage(appeal, by, data):
    appeal.resume_state = appeal.state


def _resume(appeal, by, data):
    appeal.resume_state = ""


def _back_to_first(appeal, by, data):
    appeal.second_reviewer = None


def _decided(appeal, by, data):
    appeal.decided_at = timezone.now()


def _reassign(appeal, by, data):
    if appeal.state == S.FIRST_REVIEW:
        appeal.first_reviewer = data["assignee"]
    else:
        appeal.second_reviewer = data["assignee"]


def _reopened(appeal, by, data):
    appeal.decided_at = None
    appeal.second_reviewer = by


# --- built-in guards -------------------------------------------------------------------


def _unclaimed_first(appeal, by, data):
    if appeal.first_reviewer_id is not None:
        raise GuardFailed(_("Already claimed by %(user)s.") % {"user": appeal.first_reviewer.username}, code="already_claimed")


def _unclaimed_second(appeal, by, data):
    if appeal.second_reviewer_id is not None:
        raise GuardFailed(_("Already claimed by %(user)s.") % {"user": appeal.second_reviewer.username}, code="already_claimed")


_RECOMMENDATIONS = (Action.RECOMMEND_APPROVE, Action.RECOMMEND_REJECT)


def first_review_recommenders(appeal) -> set[int]:
    """Everyone who ever recommended in a first review of this case (read from the timeline,
    which is never edited), plus its current first reviewer. A return to first review and a
    manager's reassignment change `first_reviewer`, not who has already recommended."""
    ids = set(
        AppealEvent.objects.filter(appeal_id=appeal.pk, action__in=_RECOMMENDATIONS, actor__isnull=False)
        .values_list("actor_id", flat=True)
    )
    if appeal.first_reviewer_id is not None:
        ids.add(appeal.first_reviewer_id)
    return ids


def _separation_refused() -> PermissionDenied:
    return PermissionDenied(
        _("The second review must be done by someone other than the first reviewer."), code="separation_of_duties"
    )


def _not_the_first_reviewer(appeal, by, data):
    if by is not None and by.pk in first_review_recommenders(appeal):
        raise _separation_refused()


def _holds_first_claim(appeal, by, data):
    if appeal.first_reviewer_id != by.pk:
        raise PermissionDenied(_("Only the reviewer who claimed this case may act on it."), code="not_claimer")


def _holds_second_claim(appeal, by, data):
    if appeal.second_reviewer_id != by.pk:
        raise PermissionDenied(_("Only the reviewer who claimed this case may act on it."), code="not_claimer")


def _valid_assignee(appeal, by, data):
    assignee = data.get("assignee")
    stage_role = Role.FIRST_REVIEWER if appeal.state == S.FIRST_REVIEW else Role.SECOND_REVIEWER
    if assignee is None or not assignee.is_active or not assignee.has_role(stage_role):
        raise ValidationFailed(fields={"assignee": [_("Choose a reviewer who may do this stage.")]})
    if appeal.state == S.FIRST_REVIEW:
        if appeal.second_reviewer_id == assignee.pk:
            raise _separation_refused()
    elif assignee.pk in first_review_recommenders(appeal):
        raise _separation_refused()


def _decision_was_automated(appeal, by, data):
    last = AppealEvent.objects.filter(appeal=appeal, to_state=appeal.state).order_by("-created_at", "-id").first()
    if last is None or last.action != Action.AUTO_APPROVE:
        raise GuardFailed(_("Only an automated decision can be reopened."), code="not_automated")
    if by is not None and by.pk in first_review_recommenders(appeal):
        raise _separation_refused()
    if Appeal.objects.filter(incident_id=appeal.incident_id).exclude(pk=appeal.pk).exclude(
        state__in=[S.APPROVED, S.REJECTED, S.WITHDRAWN]
    ).exists():
        raise GuardFailed(_("Another appeal for this incident is open."), code="open_appeal_exists")


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str | None  # None: back to the stage remembered in appeal.resume_state
    role: str
    comment_required: bool = False
    guards: tuple[Callable, ...] = ()
    effects: tuple[Callable, ...] = field(default=())


_OPEN_BEFORE_DECISION = (S.DRAFT, S.SUBMITTED, S.FIRST_REVIEW, S.SECOND_REVIEW, S.NEEDS_INFO, S.ESCALATED)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DRAFT, Action.SUBMIT, S.SUBMITTED, Role.APPLICANT, effects=(_submitted,)),
    Transition(S.SUBMITTED, Action.ACCEPT, S.FIRST_REVIEW, Role.SYSTEM),
    *(Transition(s, Action.WITHDRAW, S.WITHDRAWN, Role.APPLICANT) for s in _OPEN_BEFORE_DECISION),
    Transition(S.NEEDS_INFO, Action.RESUBMIT, None, Role.APPLICANT, effects=(_resume,)),
    Transition(S.FIRST_REVIEW, Action.CLAIM_FIRST, S.FIRST_REVIEW, Role.FIRST_REVIEWER,
               guards=(_unclaimed_first,), effects=(_claim_first,)),
    Transition(S.FIRST_REVIEW, Action.RECOMMEND_APPROVE, S.SECOND_REVIEW, Role.FIRST_REVIEWER,
               guards=(_holds_first_claim,)),
    Transition(S.FIRST_REVIEW, Action.RECOMMEND_REJECT, S.SECOND_REVIEW, Role.FIRST_REVIEWER,
               comment_required=True, guards=(_holds_first_claim,)),
    Transition(S.FIRST_REVIEW, Action.REQUEST_INFO, S.NEEDS_INFO, Role.FIRST_REVIEWER,
               comment_required=True, guards=(_holds_first_claim,), effects=(_remember_stage,)),
    Transition(S.FIRST_REVIEW, Action.ESCALATE, S.ESCALATED, Role.FIRST_REVIEWER,
               comment_required=True, guards=(_holds_first_claim,)),
    # A submitted case that cannot be verified goes to the manual (hotline) channel.
    Transition(S.SUBMITTED, Action.ESCALATE, S.ESCALATED, Role.FIRST_REVIEWER, comment_required=True),
    Transition(S.SECOND_REVIEW, Action.CLAIM_SECOND, S.SECOND_REVIEW, Role.SECOND_REVIEWER,
               guards=(_unclaimed_second, _not_the_first_reviewer), effects=(_claim_second,)),
    Transition(S.SECOND_REVIEW, Action.APPROVE, S.APPROVED, Role.SECOND_REVIEWER,
               guards=(_holds_second_claim, _not_the_first_reviewer), effects=(_decided,)),
    Transition(S.SECOND_REVIEW, Action.REJECT, S.REJECTED, Role.SECOND_REVIEWER,
               comment_required=True, guards=(_holds_second_claim, _not_the_first_reviewer), effects=(_decided,)),
    Transition(S.SECOND_REVIEW, Action.RETURN, S.FIRST_REVIEW, Role.SECOND_REVIEWER,
               comment_required=True, guards=(_holds_second_claim,), effects=(_back_to_first,)),
    # Whoever recommended in a first review of the case does not decide it on the hotline either.
    Transition(S.ESCALATED, Action.DECIDE_APPROVE, S.APPROVED, Role.MANAGER, guards=(_not_the_first_reviewer,), effects=(_decided,)),
    Transition(S.ESCALATED, Action.DECIDE_REJECT, S.REJECTED, Role.MANAGER, comment_required=True,
               guards=(_not_the_first_reviewer,), effects=(_decided,)),
    # Automatic resolution of minor cases (appeals/sla/auto_resolution.py) and its undo.
    Transition(S.FIRST_REVIEW, Action.AUTO_APPROVE, S.APPROVED, Role.SYSTEM, effects=(_decided,)),
    Transition(S.APPROVED, Action.REOPEN, S.SECOND_REVIEW, Role.SECOND_REVIEWER, comment_required=True,
               guards=(_decision_was_automated,), effects=(_reopened,)),
    Transition(S.FIRST_REVIEW, Action.REASSIGN, S.FIRST_REVIEW, Role.MANAGER, guards=(_valid_assignee,), effects=(_reassign,)),
    Transition(S.SECOND_REVIEW, Action.REASSIGN, S.SECOND_REVIEW, Role.MANAGER, guards=(_valid_assignee,), effects=(_reassign,)),
)

TABLE: dict[tuple[str, str], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
assert len(TABLE) == len(TRANSITIONS), "duplicate (state, action) in the transition table"

_guards: dict[str, list[Callable]] = defaultdict(list)
_listeners: list[Callable] = []
_effects: dict[str, list[Callable]] = defaultdict(list)


def register_guard(action: str, guard: Callable) -> None:
    """Add a rule to an action: guard(appeal, by, data) raises a DomainError to refuse."""
    if guard not in _guards[action]:
        _guards[action].append(guard)


def register_effect(action: str, effect: Callable) -> None:
    """Add to what an action does to the row: effect(appeal, by, data) runs after the table's
    effects, before the row is saved (e.g. the outcome code of a decision)."""
    if effect not in _effects[action]:
        _effects[action].append(effect)


def register_listener(listener: Callable) -> None:
    """listener(appeal, transition, by, event) runs inside the transition's transaction."""
    if listener not in _listeners:
        _listeners.append(listener)


def may_act(user, transition: Transition, appeal: Appeal) -> bool:
    if transition.role == Role.SYSTEM:
        return user is None
    if user is None or not user.is_active:
        return False
    if transition.role == Role.APPLICANT:
        return user.enterprise_id == appeal.enterprise_id
    return user.has_role(transition.role)


def available_actions(appeal: Appeal, user) -> list[str]:
    """The actions this user could try now (role and state only; guards may still refuse)."""
    return [t.action for (state, _a), t in TABLE.items() if state == appeal.state and may_act(user, t, appeal)]


def apply_transition(*, appeal: Appeal, action: str, by, comment: str = "", data: dict | None = None) -> Appeal:
    data = data or {}
    comment = (comment or "").strip()
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        transition = TABLE.get((locked.state, action))
        if transition is None:
            raise InvalidTransition(
                _("Cannot %(action)s an appeal that is %(state)s.")
                % {"action": Action(action).label if action in Action.values else action,
                   "state": AppealState(locked.state).label},
                state=locked.state,
                action=action,
            )
        if not may_act(by, transition, locked):
            raise PermissionDenied(_("Your role may not %(action)s this appeal.") % {"action": Action(action).label})
        if transition.comment_required and not comment:
            raise ValidationFailed(fields={"comment": [_("A comment is required for this action.")]})
        for guard in (*transition.guards, *_guards[action]):
            guard(locked, by, data)

        source = locked.state
        # A target of None means "back to the stage that asked" (read before effects run).
        target = transition.target or locked.resume_state or S.FIRST_REVIEW
        for effect in (*transition.effects, *_effects[action]):
            effect(locked, by, data)
        locked.state = target
        locked.save()

        event = AppealEvent.objects.create(
            appeal=locked,
            actor=by,
            action=action,
            from_state=source,
            to_state=locked.state,
            comment=comment,
            data={k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()},
        )
        audit_record(
            actor=by,
            action=f"appeal.{action}",
            target_type="appeals.appeal",
            target_id=locked.reference,
            enterprise_id=locked.enterprise_id,
            before={"state": source},
            after={
                "state": locked.state,
                "first_reviewer": locked.first_reviewer_id,
                "second_reviewer": locked.second_reviewer_id,
                "comment": comment,
            },
        )
        for listener in _listeners:
            listener(locked, transition, by, event)
    appeal.refresh_from_db()
    return locked
