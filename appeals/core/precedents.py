"""Precedents for reviewers: on a case in review, the most similar decided cases, ranked.

Score of a decided (approved or rejected) appeal against the case under review:
  same incident kind            +3
  same reason category          +2
  overlapping signals           +2 × Jaccard(signals of the two cases), signals being what the
                                capabilities registered (appeals.core.plugins.register_precedent_signal:
                                the evidence library's risk flags), so the core imports no capability
  same account, an earlier case +1
Ties: the most recently decided first. Candidates are the decided cases sharing the kind, the
reason or the account (the most recent PRECEDENT_CANDIDATES of them); a case sharing only risk
flags could score at most 2 and is not searched for.

Who may see them: the review desk (reviewers and managers), across every enterprise; an
enterprise admin never (they would see other enterprises' cases): PermissionDenied.
"""

from django.db.models import Q
from django.utils import timezone

from appeals.core import plugins
from appeals.core.models import Appeal, AppealState, OutcomeCode
from appeals.shared.exceptions import PermissionDenied

DECIDED = (AppealState.APPROVED, AppealState.REJECTED)
IN_REVIEW = (AppealState.SUBMITTED, AppealState.FIRST_REVIEW, AppealState.SECOND_REVIEW, AppealState.NEEDS_INFO,
             AppealState.ESCALATED)
PRECEDENT_CANDIDATES = 500
TOP = 5
WEIGHTS = {"kind": 3.0, "reason": 2.0, "signals": 2.0, "account": 1.0}


def may_see_precedents(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_desk and not user.enterprise_id)


def _signals(appeal_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {pk: set() for pk in appeal_ids}
    for name, fn in plugins.precedent_signals().items():
        for pk, labels in fn(appeal_ids).items():
            out.setdefault(pk, set()).update(f"{name}:{label}" for label in labels)
    return out


def _jaccard(a: set, b: set) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def precedents_for(*, user, appeal: Appeal, limit: int = TOP) -> list[dict]:
    """The `limit` most similar decided cases, best first, each with its score and why."""
    if not may_see_precedents(user):
        raise PermissionDenied(code="permission_denied")
    incident = appeal.incident
    candidates = list(
        Appeal.objects.filter(state__in=DECIDED)
        .filter(Q(incident__kind=incident.kind) | Q(incident__reason=incident.reason)
                | Q(incident__account_id=incident.account_id))
        .exclude(pk=appeal.pk)
        .select_related("incident", "incident__account", "enterprise")
        .order_by("-decided_at", "-id")[:PRECEDENT_CANDIDATES]
    )
    signals = _signals([appeal.pk, *(c.pk for c in candidates)])
    own = signals.get(appeal.pk, set())
    codes = {c.code: c for c in OutcomeCode.objects.all()}
    scored = []
    for c in candidates:
        why = []
        score = 0.0
        if c.incident.kind == incident.kind:
            score += WEIGHTS["kind"]
            why.append("kind")
        if c.incident.reason == incident.reason:
            score += WEIGHTS["reason"]
            why.append("reason")
        overlap = _jaccard(own, signals.get(c.pk, set()))
        if overlap:
            score += WEIGHTS["signals"] * overlap
            why.append("signals")
        if c.incident.account_id == incident.account_id and c.incident.banned_at <= incident.banned_at:
            score += WEIGHTS["account"]
            why.append("account")
        scored.append((score, c.decided_at or timezone.now(), c.pk, c, why, overlap))
    scored.sort(key=lambda t: (-t[0], -t[1].timestamp(), -t[2]))
    out = []
    for score, _decided, _pk, c, why, overlap in scored[:limit]:
        code = codes.get(c.outcome_code)
        out.append({
            "reference": c.reference, "state": c.state, "enterprise": c.enterprise.name,
            "kind": c.incident.kind, "reason": c.incident.reason, "decided_at": c.decided_at,
            "outcome_code": c.outcome_code, "outcome_label_en": code.label_en if code else "",
            "outcome_label_zh": code.label_zh if code else "",
            "decision_reason_en": c.decision_reason_en, "decision_reason_zh": c.decision_reason_zh,
            "score": round(score, 3), "matched": why, "signal_overlap": round(overlap, 3),
            "shared_signals": sorted(signals.get(c.pk, set()) & own),
        })
    return out
