"""Batch review writes: create a group from a proposal, recommend it (first reviewer: one
outcome code, one reasoned comment, exclusions), confirm it or split cases off (a second
reviewer), and the background run that moves each case.

No bypass: each case moves through `apply_transition` (claim, then recommend or decide), the
same function the single-case path uses, so every case gets its own transition, timeline event,
audit event, SLA stop and applicant notice (workflow listeners), and the workflow's own guards
decide separation of duties per case, over the case's whole history. Each case is its own
transaction (the appeal row locked first, then the member row: appeals.audit.services' lock
order), retried on a lock conflict; a case that changed meanwhile (withdrawn, resubmitted,
claimed by someone else) or that a guard refuses is skipped with the reason, never failing the
rest. The run goes by chunks and writes its progress once per chunk, for the page that polls it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.batch.models import BatchGroup, BatchMember, GroupState, MemberStatus, Recommendation
from appeals.batch.selectors import batch_window, covering_alert, may_batch_review
from appeals.core.decisions import outcome_codes
from appeals.core.models import Appeal, AppealState, Outcome, Role
from appeals.core.selectors import appeals_for
from appeals.core.workflow import Action, apply_transition
from appeals.evidence.selectors import risk_flag_rules
from appeals.shared.db import entry_point, retry_on_lock_conflict
from appeals.shared.exceptions import DomainError, GuardFailed, PermissionDenied, ValidationFailed
from appeals.shared.tasks import publish, publish_on_commit

logger = logging.getLogger(__name__)

RUN_TASK = "appeals.tasks.batch_run"
TARGET = "appeals.batchgroup"

RECOMMEND_ACTIONS = {Recommendation.APPROVE: Action.RECOMMEND_APPROVE, Recommendation.REJECT: Action.RECOMMEND_REJECT}
DECIDE_ACTIONS = {Recommendation.APPROVE: Action.APPROVE, Recommendation.REJECT: Action.REJECT}
OUTCOMES = {Recommendation.APPROVE: Outcome.APPROVE, Recommendation.REJECT: Outcome.REJECT}


def _require_role(by, role: str) -> None:
    if not may_batch_review(by) or not by.has_role(role):
        raise PermissionDenied(_("Your role may not do this in batch review."), code="permission_denied")


def _audit(by, action: str, group: BatchGroup, *, before: dict | None = None, after: dict | None = None) -> None:
    # A group spans enterprises: the enterprise of each case is on that case's own audit events.
    audit_record(actor=by, action=f"batch.{action}", target_type=TARGET, target_id=str(group.pk), before=before, after=after)


def _lock_group(group: BatchGroup) -> BatchGroup:
    return BatchGroup.objects.select_for_update().get(pk=group.pk)


def _require_state(group: BatchGroup, *states: str) -> None:
    if group.state not in states:
        raise GuardFailed(
            _("This group is %(state)s; the action needs it to be %(needed)s.")
            % {"state": group.get_state_display(), "needed": " / ".join(str(GroupState(s).label) for s in states)},
            code="group_state", state=group.state,
        )


def _references(group: BatchGroup, references, *, statuses, field: str) -> list[BatchMember]:
    wanted = {str(r).strip() for r in references or [] if str(r).strip()}
    members = list(group.members.filter(appeal__reference__in=wanted, status__in=statuses).select_related("appeal"))
    unknown = wanted - {m.appeal.reference for m in members}
    if unknown:
        raise ValidationFailed(fields={field: [_("Not a member of this group that can be chosen here: %(refs)s.")
                                               % {"refs": ", ".join(sorted(unknown))}]})
    return members


# --- create -------------------------------------------------------------------------------------


@entry_point
def batch_group_create(*, by, references: list[str]) -> BatchGroup:
    """A group of alike appeals in first review, from a proposal's references (checked again:
    the proposal may be stale)."""
    if not may_batch_review(by) or not (by.has_role(Role.FIRST_REVIEWER) or by.has_role(Role.SECOND_REVIEWER)):
        raise PermissionDenied(_("Your role may not do this in batch review."), code="permission_denied")
    wanted = sorted({str(r).strip() for r in references or [] if str(r).strip()})
    conf = settings.BATCH
    if len(wanted) < conf["MIN_GROUP_SIZE"] or len(wanted) > conf["MAX_GROUP_SIZE"]:
        raise ValidationFailed(fields={"references": [_("A group holds between %(min)s and %(max)s cases.")
                                                      % {"min": conf["MIN_GROUP_SIZE"], "max": conf["MAX_GROUP_SIZE"]}]})
    appeals = list(appeals_for(by).filter(reference__in=wanted).order_by("incident__banned_at", "id"))
    found = {a.reference for a in appeals}
    missing = [r for r in wanted if r not in found]
    if missing:
        raise ValidationFailed(fields={"references": [_("Unknown appeals: %(refs)s.") % {"refs": ", ".join(missing)}]})
    not_open = [a.reference for a in appeals if a.state != AppealState.FIRST_REVIEW]
    if not_open:
        raise ValidationFailed(fields={"references": [_("Not in first review: %(refs)s.") % {"refs": ", ".join(not_open)}]},
                               code="not_in_first_review")
    kinds = {(a.incident.kind, a.incident.reason) for a in appeals}
    span = appeals[-1].incident.banned_at - appeals[0].incident.banned_at
    if len(kinds) > 1 or span > batch_window():
        raise ValidationFailed(fields={"references": [_("These appeals are not alike: a group shares the incident kind and "
                                                        "reason, and its bans lie within the surge window.")]},
                               code="not_alike")
    first = appeals[0]
    submitted = [a.submitted_at for a in appeals if a.submitted_at]
    rules = risk_flag_rules([a.pk for a in appeals])
    group = BatchGroup.objects.create(
        kind=first.incident.kind, reason=first.incident.reason, banned_from=first.incident.banned_at,
        banned_to=appeals[-1].incident.banned_at, risk_rules=sorted(set().union(*rules.values())) if rules else [],
        surge_alert=covering_alert(kind=first.incident.kind, submitted_from=min(submitted, default=None),
                                   submitted_to=max(submitted, default=None)),
        created_by=by,
    )
    try:
        with transaction.atomic():
            BatchMember.objects.bulk_create([BatchMember(group=group, appeal=a, seen_updated_at=a.updated_at) for a in appeals])
    except IntegrityError:
        raise GuardFailed(_("Some of these appeals are already in another batch group."), code="already_grouped") from None
    _audit(by, "create", group, after={"references": [a.reference for a in appeals], "kind": group.kind,
                                       "reason": group.reason, "surge_alert": group.surge_alert_id})
    return group


# --- recommend (first reviewer) ----------------------------------------------------------------------


def _check_outcome_code(recommendation: str, outcome_code: str) -> str:
    code = (outcome_code or "").strip()
    if not code:
        raise ValidationFailed(fields={"outcome_code": [_("Choose the outcome code that gives the reason for this decision.")]},
                               code="outcome_code_required")
    if not outcome_codes(outcome=OUTCOMES[recommendation]).filter(code=code).exists():
        raise ValidationFailed(fields={"outcome_code": [_("Choose an active outcome code of the recommended outcome.")]},
                               code="outcome_code_mismatch")
    return code


def _start(group: BatchGroup, state: str, total: int) -> None:
    group.state = state
    group.job_total, group.job_done, group.job_skipped = total, 0, 0
    group.job_started_at, group.job_finished_at = timezone.now(), None
    group.job_heartbeat_at = group.job_started_at


@entry_point
def batch_recommend(*, by, group: BatchGroup, recommendation: str, outcome_code: str, comment: str,
                    exclude: list[str] | None = None) -> BatchGroup:
    """One recommendation for every included case; the excluded ones stay in individual review.
    The cases move in the background (RUN_TASK)."""
    _require_role(by, Role.FIRST_REVIEWER)
    errors = {}
    if recommendation not in Recommendation.values:
        errors["recommendation"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Recommendation.values)}]
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = [_("Give the reasons for the whole group in one comment.")]
    if errors:
        raise ValidationFailed(fields=errors)
    code = _check_outcome_code(recommendation, outcome_code)
    group = _lock_group(group)
    _require_state(group, GroupState.OPEN)
    excluded = _references(group, exclude, statuses=[MemberStatus.INCLUDED], field="exclude")
    BatchMember.objects.filter(pk__in=[m.pk for m in excluded]).update(
        status=MemberStatus.EXCLUDED, note=_("Excluded by the first reviewer."), note_code="excluded", updated_at=timezone.now())
    total = group.members.filter(status=MemberStatus.INCLUDED).count()
    if total == 0:
        raise ValidationFailed(fields={"exclude": [_("Every case is excluded: nothing left to recommend.")]})
    group.recommendation, group.outcome_code, group.comment = recommendation, code, comment
    group.recommended_by, group.recommended_at = by, timezone.now()
    _start(group, GroupState.RECOMMENDING, total)
    group.save()
    _audit(by, "recommend", group, before={"state": GroupState.OPEN},
           after={"state": group.state, "recommendation": recommendation, "outcome_code": code, "comment": comment,
                  "excluded": [m.appeal.reference for m in excluded], "included": total})
    publish_on_commit(RUN_TASK, group.pk)
    return group


# --- confirm or split (second reviewer) ----------------------------------------------------------------


@entry_point
def batch_confirm(*, by, group: BatchGroup) -> BatchGroup:
    """Decide every recommended case with the group's outcome code and reasons. Someone other than
    the group's recommender; and, per case, other than anyone who recommended it (the workflow
    refuses those cases one by one, and the run records them as skipped)."""
    _require_role(by, Role.SECOND_REVIEWER)
    group = _lock_group(group)
    _require_state(group, GroupState.RECOMMENDED)
    if group.recommended_by_id == by.pk:
        raise GuardFailed(_("The second review must be done by someone other than the first reviewer."),
                          code="separation_of_duties")
    total = group.members.filter(status=MemberStatus.RECOMMENDED).count()
    group.confirmed_by, group.confirmed_at = by, timezone.now()
    _start(group, GroupState.CONFIRMING, total)
    group.save()
    _audit(by, "confirm", group, before={"state": GroupState.RECOMMENDED}, after={"state": group.state, "cases": total})
    publish_on_commit(RUN_TASK, group.pk)
    return group


@entry_point
def batch_split(*, by, group: BatchGroup, references: list[str], comment: str = "") -> BatchGroup:
    """Selected cases leave the group: each waits in the second-review queue for its own decision."""
    _require_role(by, Role.SECOND_REVIEWER)
    group = _lock_group(group)
    _require_state(group, GroupState.RECOMMENDED)
    if group.recommended_by_id == by.pk:
        raise GuardFailed(_("The second review must be done by someone other than the first reviewer."),
                          code="separation_of_duties")
    members = _references(group, references, statuses=[MemberStatus.RECOMMENDED], field="references")
    if not members:
        raise ValidationFailed(fields={"references": [_("Choose the cases to split off.")]})
    note = (comment or "").strip() or _("Split off for individual review.")
    BatchMember.objects.filter(pk__in=[m.pk for m in members]).update(status=MemberStatus.SPLIT, note=note,
                                                                        note_code="split", updated_at=timezone.now())
    if not group.members.filter(status=MemberStatus.RECOMMENDED).exists():
        group.state = GroupState.DONE
        group.save(update_fields=["state"])
    _audit(by, "split", group, after={"state": group.state, "split": [m.appeal.reference for m in members], "comment": note})
    return group


# --- the run: one transaction per case --------------------------------------------------------------


def _skip(member: BatchMember, group: BatchGroup, code: str, note: str, *, actor) -> None:
    member.status, member.note_code, member.note = MemberStatus.SKIPPED, code, note
    member.save(update_fields=["status", "note_code", "note", "updated_at"])
    audit_record(actor=actor, action="batch.skip", target_type=TARGET, target_id=str(group.pk),
                 enterprise_id=member.appeal.enterprise_id,
                 after={"appeal": member.appeal.reference, "code": code, "note": note})


def _changed(member: BatchMember, appeal: Appeal, expected_state: str) -> str | None:
    if appeal.state != expected_state:
        return _("The case is now %(state)s.") % {"state": appeal.get_state_display()}
    if appeal.updated_at != member.seen_updated_at:
        return _("The case changed after it was grouped.")
    return None


@retry_on_lock_conflict
@entry_point
def _step(*, member_id: int, appeal_id: int, group: BatchGroup) -> bool | None:
    """One case's move, in its own transaction: True if it moved, False if skipped, None if an
    earlier delivery of the run already handled it."""
    appeal = Appeal.objects.select_for_update().get(pk=appeal_id)
    member = BatchMember.objects.select_for_update().get(pk=member_id)
    member.appeal = appeal
    recommending = group.state == GroupState.RECOMMENDING
    if member.status != (MemberStatus.INCLUDED if recommending else MemberStatus.RECOMMENDED):
        return None  # handled by an earlier delivery of the run
    by = group.recommended_by if recommending else group.confirmed_by
    changed = _changed(member, appeal, AppealState.FIRST_REVIEW if recommending else AppealState.SECOND_REVIEW)
    if changed:
        _skip(member, group, "changed", changed, actor=by)
        return False
    data = {"batch_group": group.pk, "outcome_code": group.outcome_code}
    try:
        with transaction.atomic():
            if recommending:
                if appeal.first_reviewer_id is None:
                    appeal = apply_transition(appeal=appeal, action=Action.CLAIM_FIRST, by=by, data={"batch_group": group.pk})
                appeal = apply_transition(appeal=appeal, action=RECOMMEND_ACTIONS[group.recommendation], by=by,
                                          comment=group.comment, data=data)
            else:
                if appeal.second_reviewer_id is None:
                    appeal = apply_transition(appeal=appeal, action=Action.CLAIM_SECOND, by=by, data={"batch_group": group.pk})
                appeal = apply_transition(appeal=appeal, action=DECIDE_ACTIONS[group.recommendation], by=by,
                                          comment=group.comment, data=data)
    except DomainError as exc:
        member.appeal = appeal
        _skip(member, group, exc.code, exc.message, actor=by)
        return False
    member.status = MemberStatus.RECOMMENDED if recommending else MemberStatus.DECIDED
    member.seen_updated_at = appeal.updated_at
    member.save(update_fields=["status", "seen_updated_at", "updated_at"])
    return True


@entry_point
def _progress(*, group_id: int, done: int, skipped: int) -> None:
    BatchGroup.objects.filter(pk=group_id).update(job_done=F("job_done") + done, job_skipped=F("job_skipped") + skipped,
                                                  job_heartbeat_at=timezone.now())


@entry_point
def _finish(*, group_id: int) -> BatchGroup:
    group = BatchGroup.objects.select_for_update().get(pk=group_id)
    if not group.is_running:
        return group
    before = group.state
    left = group.members.filter(status=MemberStatus.RECOMMENDED).exists()
    group.state = GroupState.RECOMMENDED if before == GroupState.RECOMMENDING and left else GroupState.DONE
    group.job_finished_at = timezone.now()
    group.save(update_fields=["state", "job_finished_at"])
    audit_record(actor=None, action="batch.finish", target_type=TARGET, target_id=str(group.pk), before={"state": before},
                 after={"state": group.state, "done": group.job_done, "skipped": group.job_skipped})
    return group


def batch_run(*, group_id: int, chunk_size: int | None = None) -> BatchGroup | None:
    """Move every pending case of the group's running step (recommend or confirm), chunk by
    chunk. Idempotent: a redelivered run continues where the last one stopped."""
    group = BatchGroup.objects.select_related("recommended_by", "confirmed_by").filter(pk=group_id).first()
    if group is None or not group.is_running:
        return group
    pending = MemberStatus.INCLUDED if group.state == GroupState.RECOMMENDING else MemberStatus.RECOMMENDED
    size = chunk_size or settings.BATCH["CHUNK_SIZE"]
    last_id = 0
    while True:
        rows = list(group.members.filter(status=pending, id__gt=last_id).order_by("id").values_list("id", "appeal_id")[:size])
        if not rows:
            break
        results = [_step(member_id=member_id, appeal_id=appeal_id, group=group) for member_id, appeal_id in rows]
        _progress(group_id=group.pk, done=results.count(True), skipped=results.count(False))
        last_id = rows[-1][0]
    return _finish(group_id=group.pk)


def batch_sweep(*, now=None) -> list[int]:
    """Publish again the run of every running group whose progress has stood still for
    BATCH["STALE_SECONDS"] (its task was lost: a broker outage at publish time, a killed worker)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.BATCH["STALE_SECONDS"])
    ids = list(BatchGroup.objects.filter(state__in=[GroupState.RECOMMENDING, GroupState.CONFIRMING],
                                         job_heartbeat_at__lt=stale).values_list("pk", flat=True))
    for pk in ids:
        logger.warning("batch group %s: run stalled since before %s; publishing it again", pk, stale.isoformat())
        publish(RUN_TASK, pk)
    return ids
