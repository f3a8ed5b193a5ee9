"""Each case's SLA clock: started when the case enters first review, paused while it waits
for the applicant, moved when a reviewer changes the severity, stopped at the decision.

The clock spends a budget (the policy's amount in its unit) only while it runs.
- Hour tiers (minor 24 h, medium 48 h) count around the clock, so a pause moves the due
  time by exactly the paused wall-clock time.
- Working-day tiers (severe, 7 working days) count only working days of the China
  calendar, so a pause moves the due time by the *working* time that passed during the
  pause: a pause over a weekend or a holiday week costs the case nothing extra.
Both spent counters are kept at every pause so a change of tier stays exact.

Policy writes (`sla_policy_update`, an entry point: one durable transaction, see
appeals.shared.db; the admin calls `.nested` inside its own transaction) and the listeners
the workflow and the incidents call (inside their transaction) live here too.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object, audit_record
from appeals.core.models import Appeal, AppealState, Role
from appeals.core.models.appeal import CLOSED_STATES
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.writes import require, snapshot
from appeals.sla.calendar import DAY, add_working_time, working_seconds_between
from appeals.sla.models import AppealSla, SlaPolicy, SlaUnit, default_policy

FIRST_DECISIONS = ("recommend_approve", "recommend_reject", "escalate")


# --- policy -----------------------------------------------------------------------------


def policy_for(severity: str) -> tuple[str, int]:
    row = SlaPolicy.objects.filter(severity=severity).values_list("unit", "amount").first()
    return tuple(row) if row else default_policy(severity)


def budget_seconds(unit: str, amount: int) -> int:
    return amount * (DAY if unit == SlaUnit.WORKING_DAYS else 3600)


@entry_point
def sla_policy_update(*, by, severity: str, unit: str, amount) -> SlaPolicy:
    """A manager changes a tier. Applies to clocks started (or re-tiered) afterwards."""
    require(by.has_role(Role.MANAGER))
    errors = {}
    if severity not in settings.APPEALS_SLA["POLICIES"]:
        errors["severity"] = [_("Unknown severity.")]
    if unit not in SlaUnit.values:
        errors["unit"] = [_("Choose hours or working days.")]
    try:
        amount = int(amount)
        if amount <= 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["amount"] = [_("Enter a whole number greater than zero.")]
    if errors:
        raise ValidationFailed(fields=errors)
    policy = SlaPolicy.objects.select_for_update().filter(severity=severity).first() or SlaPolicy(severity=severity)
    before = snapshot(policy, ("unit", "amount")) if policy.pk else {}
    policy.unit, policy.amount = unit, amount
    policy.save()
    audit_object(actor=by, action="sla.policy_update", obj=policy, before=before, after={"unit": unit, "amount": amount})
    return policy


# --- clock arithmetic ---------------------------------------------------------------------


def advance_flagged(unit: str, moment: datetime, seconds: float) -> tuple[datetime, bool]:
    """(the moment, whether it rests on a year whose calendar is not confirmed)."""
    if unit == SlaUnit.WORKING_DAYS:
        end = add_working_time(moment, seconds)
        return end.at, bool(end.unconfirmed_years)
    return moment + timedelta(seconds=seconds), False


def advance(unit: str, moment: datetime, seconds: float) -> datetime:
    return advance_flagged(unit, moment, seconds)[0]


def spent_seconds(sla: AppealSla, unit: str) -> int:
    return sla.spent_working_seconds if unit == SlaUnit.WORKING_DAYS else sla.spent_clock_seconds


def _schedule(sla: AppealSla) -> None:
    """Due and warning times of a running clock, from where it (re)started."""
    if sla.running_since is None or not sla.unit:
        return
    budget = budget_seconds(sla.unit, sla.amount)
    spent = spent_seconds(sla, sla.unit)
    warn_budget = budget * settings.APPEALS_SLA["WARN_AT_FRACTION"]
    sla.due_at, sla.calendar_unconfirmed = advance_flagged(sla.unit, sla.running_since, max(0, budget - spent))
    sla.warn_at = advance(sla.unit, sla.running_since, max(0, warn_budget - spent))


def sla_reschedule_open_clocks(*, since: datetime) -> int:
    """Recompute the due times of running working-day clocks due on or after `since`, or
    flagged (a year's calendar changed: an official schedule came in). Inside the caller's
    transaction; returns how many clocks were looked at."""
    count = 0
    clocks = AppealSla.objects.select_for_update().filter(
        closed_at__isnull=True, running_since__isnull=False, unit=SlaUnit.WORKING_DAYS
    ).filter(models.Q(due_at__gte=since) | models.Q(calendar_unconfirmed=True))
    for sla in clocks:
        _schedule(sla)
        sla.save(update_fields=["due_at", "warn_at", "calendar_unconfirmed"])
        count += 1
    return count


def _stop_segment(sla: AppealSla, now: datetime) -> None:
    """Add the running segment to both spent counters and stop the clock."""
    if sla.running_since is None:
        return
    sla.spent_clock_seconds += int((now - sla.running_since).total_seconds())
    sla.spent_working_seconds += int(working_seconds_between(sla.running_since, now))
    sla.running_since = None


def _apply_policy(sla: AppealSla, severity: str) -> None:
    sla.severity = severity
    sla.unit, sla.amount = policy_for(severity)


# --- the workflow listener ----------------------------------------------------------------


def _sla_row(appeal: Appeal) -> AppealSla:
    sla = AppealSla.objects.select_for_update().filter(appeal_id=appeal.pk).first()
    if sla is None:
        sla = AppealSla(
            appeal=appeal,
            enterprise_id=appeal.enterprise_id,
            severity=appeal.incident.severity,
            submitted_at=appeal.submitted_at or timezone.now(),
        )
    return sla


def on_transition(appeal: Appeal, transition, by, event) -> None:
    """Registered with the workflow: keep the case's clock in step with its state."""
    if appeal.state == AppealState.DRAFT:
        return
    now = event.created_at
    action = str(transition.action)
    sla = _sla_row(appeal)

    if action == "accept" and sla.started_at is None:
        _apply_policy(sla, appeal.incident.severity)
        sla.started_at = sla.running_since = now
        sla.auto_checked_at = None
    elif appeal.state == AppealState.NEEDS_INFO and sla.running_since is not None:
        _stop_segment(sla, now)
        sla.paused_at = now
    elif action == "resubmit" and sla.paused_at is not None:
        sla.paused_seconds += int((now - sla.paused_at).total_seconds())
        sla.paused_at = None
        sla.running_since = now
        sla.auto_checked_at = None
    elif action == "claim_first" and sla.first_claimed_at is None:
        sla.first_claimed_at = now
    elif action in FIRST_DECISIONS and sla.first_decided_at is None:
        sla.first_decided_at = now
    elif action == "reopen":
        # A second reviewer reopened an automated decision: the clock runs again.
        sla.closed_at, sla.outcome, sla.met = None, "", None
        sla.running_since = now if sla.started_at else None
    if appeal.state in CLOSED_STATES and sla.closed_at is None:
        if sla.started_at is not None:
            if sla.running_since is not None:
                sla.met = now <= sla.due_at
            else:  # closed while paused (withdrawn from needs_info) or never running
                sla.met = spent_seconds(sla, sla.unit) <= budget_seconds(sla.unit, sla.amount)
        _stop_segment(sla, now)
        if sla.paused_at is not None:
            sla.paused_seconds += int((now - sla.paused_at).total_seconds())
            sla.paused_at = None
        sla.closed_at = now
        sla.outcome = appeal.state
        if action == "auto_approve":
            sla.auto_rule = event.data.get("rule", "")
    sla.state = appeal.state
    sla.first_reviewer_id, sla.second_reviewer_id = appeal.first_reviewer_id, appeal.second_reviewer_id
    _schedule(sla)
    sla.save()


@transaction.atomic
def sla_severity_changed(*, incident, by) -> int:
    """A reviewer changed the incident's severity: re-tier the open cases' clocks. Returns how many.

    A severity listener: runs inside `incident_set_severity`'s transaction (never durable)."""
    count = 0
    for sla in AppealSla.objects.select_for_update().filter(appeal__incident=incident, closed_at__isnull=True):
        before = {"severity": sla.severity, "due_at": sla.due_at}
        sla.severity = incident.severity
        if sla.started_at is not None:
            _apply_policy(sla, incident.severity)
            _schedule(sla)
        sla.auto_checked_at = None
        sla.save()
        audit_object(actor=by, action="sla.retier", obj=sla, before=before,
                     after={"severity": sla.severity, "due_at": sla.due_at})
        count += 1
    return count



@entry_point
def sla_report_accessed(*, by, report: dict, table: str | None = None) -> None:
    """Who read which SLA report (page or JSON), or exported which table as CSV: an audit event."""
    audit_record(actor=by, action="report.sla_export" if table else "report.sla_view", target_type="report.sla",
                 target_id=table or "report", enterprise_id=getattr(by, "enterprise_id", None),
                 after={"filters": report.get("filters"), "source": report.get("source"), "table": table})
