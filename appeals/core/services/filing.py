"""Filing in one step: record the ban incident and the draft appeal for it together.

An entry point (appeals.shared.db) composing two others through their `.nested` form."""

from appeals.core.models import Appeal, MessagingAccount
from appeals.core.services.appeals import appeal_create
from appeals.core.services.enterprises import incident_create
from appeals.shared.db import entry_point


@entry_point
def appeal_file(
    *,
    by,
    account: MessagingAccount,
    banned_at,
    kind: str,
    reason: str,
    notice_text: str,
    statement: str,
    contact_phone: str,
) -> Appeal:
    """The applicant's form in one transaction: if the appeal is refused, no orphan incident remains."""
    incident = incident_create.nested(by=by, account=account, banned_at=banned_at, kind=kind, reason=reason, notice_text=notice_text)
    return appeal_create.nested(by=by, incident=incident, statement=statement, contact_phone=contact_phone)
