"""Writes to the outcome code catalogue (appeals.core.decisions): managers edit the texts,
add codes and retire them (active=False); a code's slug and outcome never change once
decisions may have used it. Every change is audited."""

from appeals.audit.services import audit_object
from appeals.core.models import OutcomeCode, Role
from appeals.shared.db import entry_point
from appeals.shared.writes import require, snapshot, validate_model

TEXT_FIELDS = ("label_en", "label_zh", "reason_en", "reason_zh", "next_steps_en", "next_steps_zh", "active", "position")


@entry_point
def outcome_code_save(*, by, code: str, outcome: str | None = None, **fields) -> OutcomeCode:
    """Create a code (outcome required) or change an existing code's texts and active flag."""
    require(by.has_role(Role.MANAGER))
    existing = OutcomeCode.objects.select_for_update().filter(code=code).first()
    obj = existing or OutcomeCode(code=code, outcome=outcome or "")
    before = snapshot(obj, ("code", "outcome", *TEXT_FIELDS)) if existing else None
    for key, value in fields.items():
        if key in TEXT_FIELDS:
            setattr(obj, key, value)
    validate_model(obj)
    obj.save()
    audit_record_action = "outcome_code.update" if existing else "outcome_code.create"
    audit_object(actor=by, action=audit_record_action, obj=obj, before=before,
                 after=snapshot(obj, ("code", "outcome", *TEXT_FIELDS)))
    return obj
