"""Reasoned decisions: every final decision names an outcome code from the catalogue
(appeals.core.models.OutcomeCode), whose reason is rendered for the case in both languages
and stored on the appeal.

The rule lives in the workflow: `register()` (called from appeals.core.plugin) adds a guard to
each deciding action (second review approve/reject, the manager's escalated decision, the
rule's automatic approval) that refuses without a code, with an unknown or retired code, or
with a code of the other outcome (a "refused" code cannot approve), as a field error on
`outcome_code`; and an effect that stores the code and the rendered reason and audits them.
"""

from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.core.models import Appeal, Outcome, OutcomeCode
from appeals.core.workflow import Action, register_effect, register_guard
from appeals.shared.exceptions import ValidationFailed

# The code the automatic approval by rule uses (appeals.sla.auto_resolution).
AUTO_APPROVE_CODE = "restored"

APPROVING = (Action.APPROVE, Action.DECIDE_APPROVE, Action.AUTO_APPROVE)
REJECTING = (Action.REJECT, Action.DECIDE_REJECT)


def outcome_codes(*, outcome: str | None = None):
    """The active codes, in catalogue order (optionally those of one outcome)."""
    qs = OutcomeCode.objects.filter(active=True)
    return qs.filter(outcome=outcome) if outcome else qs


def outcome_for_action(action: str) -> str | None:
    if action in APPROVING:
        return Outcome.APPROVE
    if action in REJECTING:
        return Outcome.REJECT
    return None


class _Defaulting(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _context(appeal: Appeal, language: str) -> dict:
    from django.utils import timezone, translation

    incident = appeal.incident
    with translation.override("zh-hans" if language.startswith("zh") else "en"):
        return _Defaulting(
            reference=appeal.reference,
            kind=str(incident.get_kind_display()),
            reason=str(incident.get_reason_display()),
            banned_at=timezone.localtime(incident.banned_at).strftime("%Y-%m-%d %H:%M"),
            account=incident.account.display_name,
        )


def render_reason(code: OutcomeCode, appeal: Appeal, language: str) -> str:
    """The code's reason template filled in for this case ({reference}, {kind}, {reason},
    {banned_at}, {account}); an unknown placeholder or a stray brace is left as written."""
    template = code.text("reason", language)
    try:
        return template.format_map(_context(appeal, language))
    except (ValueError, IndexError, AttributeError):
        return template


def _resolve(data: dict, expected: str) -> OutcomeCode:
    raw = str(data.get("outcome_code") or "").strip()
    if not raw:
        raise ValidationFailed(fields={"outcome_code": [_("Choose the outcome code that gives the reason for this decision.")]},
                               code="outcome_code_required")
    code = OutcomeCode.objects.filter(code=raw, active=True).first()
    if code is None:
        raise ValidationFailed(fields={"outcome_code": [_("Unknown outcome code: %(code)s.") % {"code": raw}]},
                               code="outcome_code_unknown")
    if code.outcome != expected:
        message = (_("A refusing code cannot approve an appeal.") if expected == Outcome.APPROVE
                   else _("A restoring code cannot reject an appeal."))
        raise ValidationFailed(fields={"outcome_code": [message]}, code="outcome_code_mismatch")
    return code


def require_approving_code(appeal, by, data) -> None:
    _resolve(data, Outcome.APPROVE)


def require_refusing_code(appeal, by, data) -> None:
    _resolve(data, Outcome.REJECT)


def record_outcome(appeal, by, data) -> None:
    """Effect of a deciding action: store the code and the reason rendered in both languages."""
    expected = Outcome.APPROVE if str(data.get("_action")) in APPROVING else Outcome.REJECT
    code = _resolve(data, expected)
    appeal.outcome_code = code.code
    appeal.decision_reason_en = render_reason(code, appeal, "en")
    appeal.decision_reason_zh = render_reason(code, appeal, "zh-hans")
    audit_record(actor=by, action="appeal.outcome", target_type="appeals.appeal", target_id=appeal.reference,
                 enterprise_id=appeal.enterprise_id,
                 after={"outcome_code": code.code, "outcome": code.outcome,
                        "reason_en": appeal.decision_reason_en, "reason_zh": appeal.decision_reason_zh})


def _effect_for(action):
    def effect(appeal, by, data):
        record_outcome(appeal, by, {**data, "_action": action})
    effect.__name__ = f"record_outcome_{action}"
    return effect


_EFFECTS = {action: _effect_for(action) for action in (*APPROVING, *REJECTING)}


def clear_outcome(appeal, by, data) -> None:
    """Effect of reopening an automated decision: the case is undecided again."""
    appeal.outcome_code = ""
    appeal.decision_reason_en = appeal.decision_reason_zh = ""


def register() -> None:
    register_effect(Action.REOPEN, clear_outcome)
    for action in APPROVING:
        register_guard(action, require_approving_code)
        register_effect(action, _EFFECTS[action])
    for action in REJECTING:
        register_guard(action, require_refusing_code)
        register_effect(action, _EFFECTS[action])


def catalogue_for(language: str) -> list[dict]:
    """The active codes as plain dicts for pages and the API."""
    return [{"code": c.code, "outcome": c.outcome, "label": c.text("label", language),
             "reason_template": c.text("reason", language), "next_steps": c.text("next_steps", language)}
            for c in outcome_codes()]


def outcome_labels(language: str) -> dict[str, str]:
    return {c.code: c.text("label", language) for c in OutcomeCode.objects.all()}
