"""Writes of the recovery plan: building (and re-dating) an appeal's plan from the step
templates, the applicant's ticks, the managers' template edits, and the reminders queued
through the outbox when a rest period ends. Every write is tenant-checked and audited."""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object, audit_record
from appeals.core.models import Appeal, AppealState, Role
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_queue
from appeals.recovery.models import Anchor, RecoveryPlan, RecoveryStep, RecoveryStepTemplate
from appeals.shared.db import entry_point
from appeals.shared.exceptions import DomainError, NotFound, ValidationFailed
from appeals.shared.writes import require, snapshot, validate_model

logger = logging.getLogger(__name__)

COPIED_FIELDS = ("order", "anchor", "title_en", "title_zh", "text_en", "text_zh", "offset_days", "duration_days",
                 "remind_at_end")
TEMPLATE_FIELDS = ("kind", *COPIED_FIELDS, "active")
REMINDER_TOPIC = "recovery_step"
REMINDER_TEMPLATE = "recovery_rest_ends"


# --- who may do what ---------------------------------------------------------------------------


def is_applicant(user, appeal: Appeal) -> bool:
    return bool(user and user.is_authenticated and user.enterprise_id and user.enterprise_id == appeal.enterprise_id)


def may_see(user, appeal: Appeal) -> bool:
    """The appeal's own enterprise, or desk staff (who see every submitted case)."""
    return is_applicant(user, appeal) or bool(user and user.is_authenticated and user.is_desk)


# --- dates -------------------------------------------------------------------------------------


def reference_dates(appeal: Appeal) -> dict[str, date | None]:
    """The local dates steps count from: the ban, and the decision only once it restored the account."""
    decision = None
    if appeal.state == AppealState.APPROVED and appeal.decided_at:
        decision = timezone.localdate(appeal.decided_at)
    return {Anchor.BAN: timezone.localdate(appeal.incident.banned_at), Anchor.DECISION: decision}


def step_dates(start: date | None, *, offset_days: int, duration_days: int) -> tuple[date | None, date | None]:
    """(from, until): a period of N days starting on day D runs until D + N (the day it may end);
    a one-off step has no end."""
    if start is None:
        return None, None
    begins = start + timedelta(days=offset_days)
    return begins, (begins + timedelta(days=duration_days) if duration_days else None)


# --- the plan ----------------------------------------------------------------------------------


def _date_steps(plan: RecoveryPlan, appeal: Appeal) -> list[dict]:
    anchors = reference_dates(appeal)
    changed = []
    for step in plan.steps.select_for_update().order_by("order", "id"):
        starts_on, ends_on = step_dates(anchors[step.anchor], offset_days=step.offset_days, duration_days=step.duration_days)
        if (starts_on, ends_on) != (step.starts_on, step.ends_on):
            step.starts_on, step.ends_on = starts_on, ends_on
            step.save(update_fields=["starts_on", "ends_on"])
            changed.append({"step": step.pk, "from": starts_on, "until": ends_on})
    return changed


def plan_build(*, appeal: Appeal, by) -> RecoveryPlan:
    """Create the appeal's plan from the active templates of its incident kind, or re-date an
    existing one (its steps stay as built: template changes apply to new plans). Runs in the
    caller's transaction (a workflow listener, or `recovery_plan_build`)."""
    if by is not None:
        require(may_see(by, appeal), _("You may not change this case's recovery plan."))
    appeal = Appeal.objects.select_related("incident").get(pk=appeal.pk)
    plan = RecoveryPlan.objects.select_for_update().filter(appeal=appeal).first()
    created = plan is None
    if created:
        plan = RecoveryPlan.objects.create(appeal=appeal, enterprise_id=appeal.enterprise_id, kind=appeal.incident.kind,
                                           created_by=by)
        templates = RecoveryStepTemplate.objects.filter(kind=plan.kind, active=True).order_by("order", "id")
        RecoveryStep.objects.bulk_create([
            RecoveryStep(plan=plan, template=t, **{f: getattr(t, f) for f in COPIED_FIELDS}) for t in templates
        ])
    changed = _date_steps(plan, appeal)
    if created or changed:
        plan.refreshed_at = timezone.now()
        plan.save(update_fields=["refreshed_at"])
        audit_record(actor=by, action="recovery.plan_create" if created else "recovery.plan_redate",
                     target_type="appeals.appeal", target_id=appeal.reference, enterprise_id=appeal.enterprise_id,
                     after={"plan": plan.pk, "kind": plan.kind, "steps": plan.steps.count(), "dated": changed})
    return plan


@entry_point
def recovery_plan_build(*, appeal: Appeal, by) -> RecoveryPlan:
    """The applicant (or the desk) asks for the plan now, e.g. while the appeal is a draft."""
    Appeal.objects.select_for_update().only("pk").get(pk=appeal.pk)  # the documented lock order: the appeal first
    return plan_build(appeal=appeal, by=by)


def on_transition(appeal, transition, by, event) -> None:
    """Workflow listener: the plan is built when the appeal is submitted, and re-dated when the
    decision restores the account (its post-decision steps get their dates) or is reopened."""
    if event.from_state == event.to_state:
        return
    if event.to_state in (AppealState.SUBMITTED, AppealState.APPROVED) or (
            event.from_state == AppealState.APPROVED and RecoveryPlan.objects.filter(appeal_id=appeal.pk).exists()):
        plan_build(appeal=appeal, by=None)


@entry_point
def recovery_step_tick(*, appeal: Appeal, by, step_id: int, done: bool) -> RecoveryStep:
    """The applicant ticks (or unticks) one step of their plan."""
    require(is_applicant(by, appeal), _("Only the enterprise that filed the appeal ticks its recovery steps."))
    Appeal.objects.select_for_update().only("pk").get(pk=appeal.pk)
    step = RecoveryStep.objects.select_for_update().filter(plan__appeal=appeal, pk=step_id).first()
    if step is None:
        raise NotFound(_("No such step in this case's recovery plan."), code="recovery_step_not_found")
    if step.done == done:
        return step
    before = {"done": step.done}
    step.done = done
    step.done_at = timezone.now() if done else None
    step.done_by = by if done else None
    step.save(update_fields=["done", "done_at", "done_by"])
    audit_record(actor=by, action="recovery.step_tick", target_type="appeals.appeal", target_id=appeal.reference,
                 enterprise_id=appeal.enterprise_id, before=before,
                 after={"step": step.pk, "title": step.title_en, "done": done})
    return step


# --- the managers' templates -------------------------------------------------------------------


def _require_manager(by) -> None:
    require(bool(by and by.is_authenticated and by.has_role(Role.MANAGER)),
            _("Only managers may change the recovery step templates."))


@entry_point
def recovery_template_save(*, by, template: RecoveryStepTemplate | None = None, **fields) -> RecoveryStepTemplate:
    """Create a template (template=None) or change one: texts in both languages, periods, order,
    reminder, active. Applies to plans built afterwards."""
    _require_manager(by)
    if template is not None:
        template = RecoveryStepTemplate.objects.select_for_update().get(pk=template.pk)
    obj = template or RecoveryStepTemplate()
    before = snapshot(obj, TEMPLATE_FIELDS) if template is not None else None
    for key, value in fields.items():
        if key in TEMPLATE_FIELDS:
            setattr(obj, key, value)
    if obj.remind_at_end and not obj.duration_days:
        raise ValidationFailed(fields={"remind_at_end": [_("A reminder needs a period: set the period in days.")]},
                               code="recovery_remind_needs_period")
    validate_model(obj)
    obj.save()
    audit_object(actor=by, action="recovery_template.update" if before else "recovery_template.create", obj=obj,
                 before=before, after=snapshot(obj, TEMPLATE_FIELDS))
    return obj


@entry_point
def recovery_template_delete(*, by, template: RecoveryStepTemplate) -> None:
    """Remove a template; plans built from it keep their copy of the step."""
    _require_manager(by)
    template = RecoveryStepTemplate.objects.select_for_update().get(pk=template.pk)
    before = snapshot(template, TEMPLATE_FIELDS)
    audit_object(actor=by, action="recovery_template.delete", obj=template, before=before)
    template.delete()


# --- reminders ---------------------------------------------------------------------------------


def _admin_language(appeal: Appeal) -> str:
    """The language of the first mail the case sent the admin (the language they filed in)."""
    return (
        Message.objects.filter(appeal=appeal, channel=Channel.EMAIL).exclude(language="")
        .order_by("created_at", "id").values_list("language", flat=True).first() or ""
    )


def due_reminder_steps(*, today: date):
    """Steps of restored cases whose period ends today or ended, that ended on or after the
    decision (a rest over before the account came back needs no reminder), not reminded yet."""
    tz = timezone.get_current_timezone()
    return (RecoveryStep.objects.filter(remind_at_end=True, reminded_at__isnull=True, ends_on__lte=today,
                                        plan__appeal__state=AppealState.APPROVED)
            .annotate(decided_on=TruncDate("plan__appeal__decided_at", tzinfo=tz))
            .filter(ends_on__gte=F("decided_on")).order_by("ends_on", "id"))


def _queue_reminder(step: RecoveryStep) -> list[Message]:
    appeal = step.plan.appeal
    enterprise = appeal.enterprise
    language = _admin_language(appeal)
    params = {"reference": appeal.reference, "company": enterprise.name, "admin_name": enterprise.admin_name,
              "title_en": step.title_en, "title_zh": step.title_zh, "text_en": step.text_en, "text_zh": step.text_zh,
              "starts_on": step.starts_on.isoformat() if step.starts_on else "",
              "ends_on": step.ends_on.isoformat(), "days": step.duration_days}
    queued = []
    if enterprise.admin_email:
        queued.append(message_queue(channel=Channel.EMAIL, recipient=enterprise.admin_email, template=REMINDER_TEMPLATE,
                                    params=params, idempotency_key=f"recovery-step:{step.pk}:end:email", appeal=appeal,
                                    language=language, topic=REMINDER_TOPIC, topic_id=step.pk))
    if appeal.contact_phone and not appeal.personal_data_erased_at:
        try:
            with transaction.atomic():
                queued.append(message_queue(channel=Channel.SMS, recipient=appeal.contact_phone, template=REMINDER_TEMPLATE,
                                            params={k: params[k] for k in ("reference", "title_en", "title_zh", "ends_on")},
                                            idempotency_key=f"recovery-step:{step.pk}:end:sms", appeal=appeal,
                                            language=language, topic=REMINDER_TOPIC, topic_id=step.pk))
        except DomainError as exc:  # the phone's daily cap, or a number no longer valid: the email still goes
            logger.warning("recovery reminder SMS for step %s not queued: %s", step.pk, exc.code)
    return queued


def recovery_reminders_queue(*, now=None) -> int:
    """Beat task body: queue the reminder of every step whose period has ended, once (the step
    row is locked and marked in the transaction that writes the outbox rows; the messages'
    idempotency keys are the step's)."""
    now = now or timezone.now()
    count = 0
    due = due_reminder_steps(today=timezone.localdate(now)).values_list("pk", "plan__appeal_id")[:1000]
    for step_id, appeal_id in list(due):
        with transaction.atomic(durable=True):
            Appeal.objects.select_for_update().only("pk").get(pk=appeal_id)  # the documented lock order: the appeal first
            step = (RecoveryStep.objects.select_for_update(of=("self",))
                    .select_related("plan__appeal__enterprise").filter(pk=step_id, reminded_at__isnull=True).first())
            if step is None:
                continue  # another scan got there first
            messages = _queue_reminder(step)
            step.reminded_at = now
            step.save(update_fields=["reminded_at"])
            audit_object(actor=None, action="recovery.reminder_queued", obj=step.plan,
                         after={"step": step.pk, "ends_on": step.ends_on, "messages": [m.pk for m in messages]})
            count += 1
    return count
