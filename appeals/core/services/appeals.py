"""Writes for appeals: filing, editing a draft, and every workflow verb.

Every public verb is an entry point (`@entry_point`: one durable transaction, see
appeals.shared.db). `appeal_try_accept` is a building block: it runs inside the transaction
of whatever satisfied the last intake guard (the submit, a verification answer).
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object
from appeals.core import search
from appeals.core.models import Appeal, AppealState, BanIncident, ReferenceSequence
from appeals.core.workflow import Action, apply_transition
from appeals.shared.db import advisory_xact_lock, entry_point
from appeals.shared.exceptions import DomainError, GuardFailed, ValidationFailed
from appeals.shared.validators import normalise_mobile
from appeals.shared.writes import require, snapshot

DRAFT_FIELDS = ("statement", "contact_phone")


def _next_reference(now: datetime) -> str:
    year = timezone.localtime(now).year
    ReferenceSequence.objects.bulk_create([ReferenceSequence(year=year, last=0)], ignore_conflicts=True)
    seq = ReferenceSequence.objects.select_for_update().get(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"AP-{year}-{seq.last:06d}"


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def phone_appeals_this_month(phone: str, *, exclude_pk=None) -> int:
    qs = Appeal.objects.filter(contact_phone=phone, submitted_at__gte=_month_start(timezone.now()))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.count()


def _phone_quota_message() -> str:
    return _("This phone number has already requested %(n)s unbans this month, the platform's limit.") % {
        "n": settings.APPEALS["MAX_APPEALS_PER_PHONE_PER_MONTH"]
    }


def phone_monthly_quota_guard(appeal, by, data) -> None:
    """DOMAIN.md: the same phone number may request an unban at most 5 times a month."""
    advisory_xact_lock("appeal-phone", appeal.contact_phone)
    if phone_appeals_this_month(appeal.contact_phone, exclude_pk=appeal.pk) >= settings.APPEALS["MAX_APPEALS_PER_PHONE_PER_MONTH"]:
        raise GuardFailed(_phone_quota_message(), code="phone_monthly_limit", fields={"contact_phone": [_phone_quota_message()]})



def _clean_draft_fields(fields: dict) -> dict:
    errors = {}
    cleaned = {}
    if "statement" in fields:
        statement = (fields["statement"] or "").strip()
        if not statement:
            errors["statement"] = [_("Explain why the ban should be lifted.")]
        cleaned["statement"] = statement
    if "contact_phone" in fields:
        phone = (fields["contact_phone"] or "").strip()
        try:
            phone = normalise_mobile(phone)  # stored, counted and texted in one canonical form
        except Exception as exc:  # django ValidationError
            errors["contact_phone"] = list(getattr(exc, "messages", [str(exc)]))
        else:
            if phone_appeals_this_month(phone) >= settings.APPEALS["MAX_APPEALS_PER_PHONE_PER_MONTH"]:
                errors["contact_phone"] = [_phone_quota_message()]
        cleaned["contact_phone"] = phone
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@entry_point
def appeal_create(*, by, incident: BanIncident, statement: str, contact_phone: str) -> Appeal:
    """File a draft appeal for one of the applicant's own incidents."""
    require(by.enterprise_id is not None and by.enterprise_id == incident.enterprise_id)
    cleaned = _clean_draft_fields({"statement": statement, "contact_phone": contact_phone})
    if Appeal.objects.filter(incident=incident).exclude(state__in=[s for s in (AppealState.APPROVED, AppealState.REJECTED, AppealState.WITHDRAWN)]).exists():
        raise ValidationFailed(fields={"incident": [_("This incident already has an open appeal.")]}, code="open_appeal_exists")
    now = timezone.now()
    appeal = Appeal(enterprise_id=incident.enterprise_id, incident=incident, filed_by=by, reference=_next_reference(now), **cleaned)
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError:
        raise ValidationFailed(fields={"incident": [_("This incident already has an open appeal.")]}, code="open_appeal_exists") from None
    audit_object(actor=by, action="appeal.create", obj=appeal, after={"reference": appeal.reference, "incident": incident.pk, **cleaned})
    search.refresh([appeal.pk])
    return appeal


@entry_point
def appeal_update_draft(*, appeal: Appeal, by, **fields) -> Appeal:
    require(by.enterprise_id == appeal.enterprise_id)
    appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
    if appeal.state != AppealState.DRAFT:
        raise GuardFailed(_("Only a draft can be edited; this appeal is %(state)s.") % {"state": appeal.get_state_display()}, code="not_draft")
    before = snapshot(appeal, DRAFT_FIELDS)
    cleaned = _clean_draft_fields({k: v for k, v in fields.items() if k in DRAFT_FIELDS})
    for key, value in cleaned.items():
        setattr(appeal, key, value)
    appeal.save(update_fields=[*cleaned.keys(), "updated_at"])
    audit_object(actor=by, action="appeal.update_draft", obj=appeal, before=before, after=snapshot(appeal, DRAFT_FIELDS))
    search.refresh([appeal.pk])
    return appeal


def appeal_try_accept(*, appeal: Appeal) -> Appeal:
    """Move a submitted appeal into the first-review queue once every intake guard passes.

    Intake guards (verification, later) refuse with GuardFailed; the case then stays
    submitted until whatever satisfies them calls this again. Runs inside the caller's
    transaction (the refused move is undone by its own savepoint).
    """
    if appeal.state != AppealState.SUBMITTED:
        return appeal
    try:
        with transaction.atomic():
            return apply_transition(appeal=appeal, action=Action.ACCEPT, by=None)
    except GuardFailed:
        appeal.refresh_from_db()
        return appeal


@entry_point
def appeal_submit(*, appeal: Appeal, by) -> Appeal:
    appeal = apply_transition(appeal=appeal, action=Action.SUBMIT, by=by)
    return appeal_try_accept(appeal=appeal)


@entry_point
def appeal_withdraw(*, appeal: Appeal, by, comment: str = "") -> Appeal:
    return apply_transition(appeal=appeal, action=Action.WITHDRAW, by=by, comment=comment)


@entry_point
def appeal_resubmit(*, appeal: Appeal, by, comment: str = "") -> Appeal:
    return apply_transition(appeal=appeal, action=Action.RESUBMIT, by=by, comment=comment)


@entry_point
def appeal_claim(*, appeal: Appeal, by) -> Appeal:
    """Claim the case for whichever review stage it is in."""
    action = Action.CLAIM_SECOND if appeal.state == AppealState.SECOND_REVIEW else Action.CLAIM_FIRST
    return apply_transition(appeal=appeal, action=action, by=by)


class FirstReviewDecision:
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    ESCALATE = "escalate"
    ACTIONS = {APPROVE: Action.RECOMMEND_APPROVE, REJECT: Action.RECOMMEND_REJECT, REQUEST_INFO: Action.REQUEST_INFO, ESCALATE: Action.ESCALATE}


class SecondReviewDecision:
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    ACTIONS = {APPROVE: Action.APPROVE, REJECT: Action.REJECT, RETURN: Action.RETURN}


class ManagerDecision:
    APPROVE = "approve"
    REJECT = "reject"
    ACTIONS = {APPROVE: Action.DECIDE_APPROVE, REJECT: Action.DECIDE_REJECT}


@entry_point
def appeal_act(*, appeal: Appeal, by, action: str, comment: str = "", data: dict | None = None) -> Appeal:
    """Any workflow action by name (the case page's generic path: a stale page's action is
    refused by the workflow with the state and the action named)."""
    return apply_transition(appeal=appeal, action=action, by=by, comment=comment, data=data)


def _decision_action(decisions, decision: str) -> str:
    try:
        return decisions.ACTIONS[decision]
    except KeyError:
        raise ValidationFailed(fields={"decision": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(decisions.ACTIONS)}]}) from None


def _outcome_data(outcome_code: str) -> dict:
    return {"outcome_code": (outcome_code or "").strip()} if outcome_code else {}


@entry_point
def appeal_first_review(*, appeal: Appeal, by, decision: str, comment: str = "") -> Appeal:
    return apply_transition(appeal=appeal, action=_decision_action(FirstReviewDecision, decision), by=by, comment=comment)


@entry_point
def appeal_second_review(*, appeal: Appeal, by, decision: str, comment: str = "", outcome_code: str = "") -> Appeal:
    """Approve or reject (with an outcome code from the catalogue: appeals.core.decisions), or return."""
    return apply_transition(appeal=appeal, action=_decision_action(SecondReviewDecision, decision), by=by, comment=comment,
                            data=_outcome_data(outcome_code))


@entry_point
def appeal_decide_escalated(*, appeal: Appeal, by, decision: str, comment: str = "", outcome_code: str = "") -> Appeal:
    return apply_transition(appeal=appeal, action=_decision_action(ManagerDecision, decision), by=by, comment=comment,
                            data=_outcome_data(outcome_code))


@entry_point
def appeal_reassign(*, appeal: Appeal, by, assignee, comment: str = "") -> Appeal:
    return apply_transition(appeal=appeal, action=Action.REASSIGN, by=by, comment=comment, data={"assignee": assignee})


__all__ = [
    "DomainError",
    "appeal_act",
    "appeal_claim",
    "appeal_create",
    "appeal_decide_escalated",
    "appeal_first_review",
    "appeal_reassign",
    "appeal_resubmit",
    "appeal_second_review",
    "appeal_submit",
    "appeal_try_accept",
    "appeal_update_draft",
    "appeal_withdraw",
]
