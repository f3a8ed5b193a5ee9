"""Appending to the audit hash chain, and checking it.

Lock order (every transaction that writes, so that no two can wait on each other in a cycle):

1. the appeal row: `Appeal.objects.select_for_update()` (the workflow's `apply_transition`,
   evidence upload and delete, verification, the log analysis's write step), taken before
   any row that belongs to the appeal;
2. the appeal's own rows (evidence items, log analyses and risk flags, challenges, outbox
   messages, SLA rows) and the keyed advisory locks of appeals.shared.db.advisory_xact_lock;
3. the audit chain lock (`_lock_chain`, one PostgreSQL advisory lock for the whole chain),
   taken by `audit_record`: never before an appeal row. A transaction that holds the chain
   lock and then asks for an appeal row deadlocks with any submit (which holds the row and
   asks for the chain lock). Beware the hidden ask: Django's foreign keys are DEFERRABLE
   INITIALLY DEFERRED, so inserting a row that points at an appeal (a risk flag, an event)
   takes a key-share lock on the appeal row only at COMMIT, i.e. after the chain lock. A
   transaction that inserts such rows and audits must lock the appeal row explicitly first
   (as evidence_analyse_log's write step does). Call `audit_record` after the row locks, as the last write
   where possible. Rows locked after it (workflow listeners) are rows of the same appeal,
   whose other writers hold the appeal row first, so they cannot be waiting for the chain.

Should a cycle happen anyway (or a serialization failure), PostgreSQL aborts one
transaction; tasks run their write step again (appeals.shared.db.retry_on_lock_conflict,
then the task's own retry) instead of leaving their work half done.
"""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from appeals.audit.models import GENESIS_HASH, AuditEvent
from appeals.shared.context import request_ip

# Any constant works; it names the one advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x41554454  # "AUDT"


def _normalise(value) -> dict:
    """What the JSON column will give back, so the hash is computed over the stored form."""
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder, ensure_ascii=False))


def _lock_chain() -> None:
    # PostgreSQL: a transaction-scoped advisory lock, so two writers can never read the
    # same chain head. SQLite serialises writers itself; the unique position is the backstop.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


@transaction.atomic
def audit_record(
    *,
    actor,
    action: str,
    target_type: str,
    target_id,
    enterprise_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    _lock_chain()
    head = AuditEvent.objects.order_by("-position").values("position", "hash").first()
    event = AuditEvent(
        position=(head["position"] + 1) if head else 1,
        prev_hash=head["hash"] if head else GENESIS_HASH,
        created_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        enterprise_id=enterprise_id,
        before=_normalise(before),
        after=_normalise(after),
        ip=request_ip.get(),
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


def audit_object(*, actor, action: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Audit an action on a model instance, taking the tenant from the object itself.

    An appeal is named by its reference (as the workflow and verification name it), so
    `target_type="appeals.appeal", target_id=<reference>` is one case's whole trail.
    """
    enterprise_id = obj.pk if obj._meta.model_name == "enterprise" else getattr(obj, "enterprise_id", None)
    target_id = obj.reference if obj._meta.label_lower == "appeals.appeal" else obj.pk
    return audit_record(
        actor=actor,
        action=action,
        target_type=obj._meta.label_lower,
        target_id=target_id,
        enterprise_id=enterprise_id,
        before=before,
        after=after,
    )


@dataclass
class ChainReport:
    intact: bool
    count: int
    broken_position: int | None = None
    broken_id: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.intact:
            return f"intact, {self.count} events"
        return f"broken at position {self.broken_position} (id {self.broken_id}): {self.reason}"


def audit_verify_chain(*, chunk_size: int = 2000, using: str = "default") -> ChainReport:
    """Walk the chain in order; report the first row whose link or content does not hold.

    `using`: another database alias (a restore drill checks the scratch copy it rebuilt)."""
    expected_prev = GENESIS_HASH
    expected_position = 1
    count = 0
    for event in AuditEvent.objects.using(using).order_by("position").iterator(chunk_size=chunk_size):
        if event.position != expected_position:
            return ChainReport(False, count, event.position, event.pk, f"expected position {expected_position}: a row is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, count, event.position, event.pk, "prev_hash does not match the previous row's hash")
        if event.compute_hash() != event.hash:
            return ChainReport(False, count, event.position, event.pk, "content does not match its hash (row altered)")
        expected_prev = event.hash
        expected_position += 1
        count += 1
    return ChainReport(True, count)
