"""Automatic resolution of minor cases: one rule over a registry of named conditions.

The rule (README "Automatic resolution") approves a case only when EVERY required
condition is registered and passes:
  minor_severity      the incident is minor
  no_recent_incident  no other incident on the same account in the lookback period
                      (settings.APPEALS["PRIOR_INCIDENT_LOOKBACK_DAYS"], six months)
  applicant_verified  both verification proofs passed          (registered by verification)
  evidence_complete   the required evidence is all there         (registered by evidence)
  no_risk_flags       the operation-log analysis found nothing    (registered by evidence)
A required condition nobody registered counts as failed: never auto-approve without knowing.

`appeal_auto_resolve` and `appeal_reopen` are entry points (one durable transaction each,
appeals.shared.db); the approval itself is a savepoint inside, so a refused transition
still records why.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.core import plugins, selectors
from appeals.core.models import Appeal, AppealState, Severity
from appeals.core.workflow import Action, apply_transition
from appeals.shared.db import entry_point
from appeals.shared.exceptions import DomainError
from appeals.sla.models import AppealSla

REQUIRED_CONDITIONS: tuple[str, ...] = (
    "minor_severity",
    "no_recent_incident",
    "applicant_verified",
    "evidence_complete",
    "no_risk_flags",
)

def auto_resolution_rule(appeal: Appeal) -> tuple[bool, list[str]]:
    """(approve?, reasons it may not be approved automatically)."""
    reasons = []
    for name in REQUIRED_CONDITIONS:
        condition = plugins.auto_resolution_condition(name)
        if condition is None:
            reasons.append(f"{name}: " + _("condition not available"))
            continue
        failure = condition(appeal)
        if failure:
            reasons.append(f"{name}: {failure}")
    return (not reasons, reasons)


def minor_severity(appeal: Appeal) -> str | None:
    if appeal.incident.severity != Severity.MINOR:
        return _("severity is %(severity)s") % {"severity": appeal.incident.get_severity_display()}
    return None


def no_recent_incident(appeal: Appeal) -> str | None:
    n = selectors.prior_incidents(incident=appeal.incident).count()
    if n:
        return _("%(n)s incident(s) on this account in the last %(days)s days") % {
            "n": n, "days": settings.APPEALS["PRIOR_INCIDENT_LOOKBACK_DAYS"]}
    return None


def eligible_for_auto_resolution():
    """Unclaimed minor cases in first review whose rule has not been evaluated since they last changed."""
    return Appeal.objects.filter(
        state=AppealState.FIRST_REVIEW,
        first_reviewer__isnull=True,
        incident__severity=Severity.MINOR,
        sla__auto_checked_at__isnull=True,
    ).order_by("sla__due_at")


def appeal_auto_resolve(*, appeal: Appeal) -> Appeal:
    """Apply the rule to one case: approve it as an automated decision, or record why not."""
    with transaction.atomic(durable=True):
        locked = Appeal.objects.select_for_update().select_related("incident").get(pk=appeal.pk)
        if locked.state != AppealState.FIRST_REVIEW or locked.first_reviewer_id is not None:
            return locked
        ok, reasons = auto_resolution_rule(locked)
        rule = settings.APPEALS_SLA["AUTO_RESOLUTION_RULE"]
        if ok:
            try:
                with transaction.atomic():
                    decided = apply_transition(
                        appeal=locked, action=Action.AUTO_APPROVE, by=None,
                        comment=_("Approved automatically by rule %(rule)s.") % {"rule": rule},
                        data={"rule": rule, "automated": True, "conditions": list(REQUIRED_CONDITIONS),
                              "outcome_code": "restored"},  # appeals.core.decisions.AUTO_APPROVE_CODE
                    )
                    audit_record(actor=None, action="appeal.automated_decision", target_type="appeals.appeal",
                                 target_id=decided.reference, enterprise_id=decided.enterprise_id,
                                 after={"decision": "approved", "rule": rule, "conditions": list(REQUIRED_CONDITIONS)})
                    return decided
            except DomainError as exc:
                reasons = [f"transition refused: {exc.message}"]
        AppealSla.objects.filter(appeal_id=locked.pk).update(auto_checked_at=timezone.now(), auto_reasons=reasons)
        return locked


@entry_point
def appeal_reopen(*, appeal: Appeal, by, comment: str) -> Appeal:
    """A second reviewer reopens an automated decision; the case goes to second review, claimed by them."""
    return apply_transition(appeal=appeal, action=Action.REOPEN, by=by, comment=comment)
