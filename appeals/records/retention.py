"""Retention: what is erased when, and what is never deleted early.

- Personal data of a closed case (the ID-card images, the contact phone, the phone numbers and
  email addresses the case's verification challenges and outbox messages went to) is erased or
  masked PERSONAL_DATA_RETENTION_DAYS after the case closed, unless a manager put the case under
  legal hold (which stops the clock until lifted). Each erasure is an audit event that names
  what was erased, never the erased values.
- Audit events are kept at least AUDIT_RETENTION_DAYS (730): the chain is append-only (migration
  0002's trigger refuses DELETE), so nothing deletes them at all; `audit_archive` exports the
  events past the retention to a file and refuses any cut-off younger than it.
- Sessions past their expiry and expired API tokens are purged.
"""

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from appeals.audit.models import AuditEvent
from appeals.audit.services import audit_object
from appeals.core.models import Appeal, AppealEvent, Role
from appeals.core.models.appeal import CLOSED_STATES
from appeals.evidence.models import EvidenceItem, EvidenceKind
from appeals.evidence.services import evidence_storage
from appeals.notifications.models import Message
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.writes import require
from appeals.verification.models import VerificationChallenge

logger = logging.getLogger(__name__)

ID_CARD_KINDS = (EvidenceKind.ADMIN_ID_FRONT, EvidenceKind.ADMIN_ID_BACK)
_EMAIL = re.compile(r"^([^@]?)[^@]*(@.*)$")


def mask_phone(value: str) -> str:
    """'13812345678' -> '138****5678'; anything short becomes stars."""
    value = value or ""
    if "*" in value:
        return value
    if len(value) >= 8:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)


def mask_email(value: str) -> str:
    """'zhang.wei@example.com' -> 'z***@example.com'."""
    if not value or "***@" in value:
        return value
    match = _EMAIL.match(value)
    return f"{match.group(1)}***{match.group(2)}" if match else "***"


def mask_recipient(value: str) -> str:
    return mask_email(value) if "@" in (value or "") else mask_phone(value)


# --- personal data of closed cases ----------------------------------------------------------------


def retention_days() -> int:
    return settings.RETENTION["PERSONAL_DATA_DAYS"]


def closed_cases(now: datetime | None = None):
    """Closed cases with their closing time (`closed_at`: the last move into a closed state)."""
    last_close = AppealEvent.objects.filter(appeal=OuterRef("pk"), to_state__in=CLOSED_STATES).order_by("-created_at", "-id")
    return Appeal.objects.filter(state__in=CLOSED_STATES).annotate(
        closed_at=Coalesce(Subquery(last_close.values("created_at")[:1]), F("decided_at"), F("updated_at"))
    )


def cases_due_for_erasure(now: datetime | None = None):
    """Closed past the retention, not on legal hold, not erased yet: oldest first."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    return (closed_cases(now).filter(legal_hold=False, personal_data_erased_at__isnull=True, closed_at__lt=cutoff)
            .order_by("closed_at", "pk"))


@entry_point
def appeal_erase_personal_data(*, appeal_id: int, now: datetime | None = None) -> AuditEvent | None:
    """Erase one case's personal data (re-checked under the row lock); None if it is not due."""
    now = now or timezone.now()
    appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first()
    due = cases_due_for_erasure(now).filter(pk=appeal_id).values("closed_at").first()
    if appeal is None or due is None:
        return None
    storage = evidence_storage()
    erased = []
    for item in EvidenceItem.objects.select_for_update().filter(appeal=appeal, kind__in=ID_CARD_KINDS, erased_at__isnull=True):
        # Deleting first: if the transaction fails the rows stay unmarked and the next sweep
        # deletes again (a delete of a missing file is a no-op) and marks them.
        for name in (item.storage_name, item.thumbnail_name, item.preview_name):
            if name:
                storage.delete(name)
        item.erased_at = now
        item.thumbnail_name = item.preview_name = ""
        item.save(update_fields=["erased_at", "thumbnail_name", "preview_name"])
        erased.append(str(item.uuid))
    appeal.contact_phone = mask_phone(appeal.contact_phone)
    appeal.personal_data_erased_at = now
    appeal.save(update_fields=["contact_phone", "personal_data_erased_at"])
    challenges = 0
    for challenge in VerificationChallenge.objects.filter(appeal=appeal):
        challenge.destination = mask_recipient(challenge.destination)
        challenge.save(update_fields=["destination"])
        challenges += 1
    messages = 0
    for message in Message.objects.filter(appeal=appeal):
        message.recipient = mask_recipient(message.recipient)
        message.save(update_fields=["recipient"])
        messages += 1
    return audit_object(actor=None, action="appeal.personal_data_erased", obj=appeal, after={
        "closed_at": due["closed_at"], "retention_days": retention_days(), "id_card_files_erased": erased,
        "contact_phone": "masked", "verification_destinations_masked": challenges, "message_recipients_masked": messages,
    })


def retention_sweep(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Erase every due case (in batches, each case its own transaction); returns how many."""
    now = now or timezone.now()
    done = 0
    limit = limit or settings.RETENTION["BATCH"]
    while True:
        ids = list(cases_due_for_erasure(now).values_list("pk", flat=True)[:limit])
        if not ids:
            return done
        progressed = 0
        for appeal_id in ids:
            try:
                if appeal_erase_personal_data(appeal_id=appeal_id, now=now):
                    done += 1
                    progressed += 1
            except Exception:
                logger.exception("retention: erasing the personal data of appeal %s failed; the next sweep retries", appeal_id)
        if not progressed:
            return done


# --- legal hold ------------------------------------------------------------------------------------


@entry_point
def appeal_set_legal_hold(*, appeal: Appeal, by, hold: bool, reason: str = "") -> Appeal:
    """A manager puts a case under legal hold (its personal data is kept) or lifts it."""
    require(by is not None and by.has_role(Role.MANAGER), _("Only a manager may set or lift a legal hold."))
    reason = (reason or "").strip()
    if hold and not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the case is put under legal hold.")]})
    if len(reason) > 500:
        raise ValidationFailed(fields={"reason": [_("Keep the reason under 500 characters.")]})
    appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
    if appeal.legal_hold == hold:
        return appeal
    before = {"legal_hold": appeal.legal_hold}
    appeal.legal_hold = hold
    appeal.save(update_fields=["legal_hold"])
    audit_object(actor=by, action="appeal.legal_hold_set" if hold else "appeal.legal_hold_lifted", obj=appeal,
                 before=before, after={"legal_hold": hold, "reason": reason})
    return appeal


# --- audit trail -----------------------------------------------------------------------------------


def audit_retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.APPEALS["AUDIT_RETENTION_DAYS"])


@dataclass
class ArchiveResult:
    count: int
    first_position: int | None
    last_position: int | None
    last_hash: str


def audit_archive(*, before: datetime, out: Path, now: datetime | None = None) -> ArchiveResult:
    """Export the events older than `before` (JSON lines, with their hashes) to `out`.

    Refuses a cut-off younger than AUDIT_RETENTION_DAYS. Deletes nothing: the table is
    append-only and its chain starts at position 1; see docs/operations.md "Retention"."""
    cutoff = audit_retention_cutoff(now)
    if before > cutoff:
        raise ValidationFailed(fields={"before": [
            _("Audit events are kept at least %(days)s days: the cut-off must be on or before %(date)s.")
            % {"days": settings.APPEALS["AUDIT_RETENTION_DAYS"], "date": timezone.localtime(cutoff).strftime("%Y-%m-%d %H:%M")}
        ]})
    count, first, last, last_hash = 0, None, None, ""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fp:
        for event in AuditEvent.objects.filter(created_at__lt=before).order_by("position").iterator(chunk_size=2000):
            row = json.loads(event.canonical())
            row.update(id=event.pk, hash=event.hash)
            fp.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
            first = first or event.position
            last, last_hash = event.position, event.hash
    return ArchiveResult(count, first, last, last_hash)


# --- sessions and tokens ---------------------------------------------------------------------------


def purge_sessions_and_tokens(*, now: datetime | None = None) -> dict:
    """Expired sessions (`clearsessions`) and API tokens (django-rest-knox) past their expiry."""
    now = now or timezone.now()
    out = {"tokens": 0, "token_kind": ""}
    if apps.is_installed("django.contrib.sessions"):
        call_command("clearsessions")
    out["tokens"], _ = AuthToken.objects.filter(expiry__lt=now).delete()
    out["token_kind"] = "knox"
    return out
