"""Batch review reads, scoped to the user who asks: the review desk sees every enterprise's
cases; anyone else (an enterprise admin) sees no group and no proposal at all."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from appeals.batch.grouping import Case, group_alike
from appeals.batch.models import ACTIVE_MEMBER_STATUSES, BatchGroup, BatchMember, MemberStatus
from appeals.core.models import Appeal, AppealState
from appeals.core.selectors import appeals_for
from appeals.evidence.selectors import risk_flag_rules
from appeals.shared.exceptions import NotFound
from appeals.surge.models import SurgeAlert, SurgeDimension
from appeals.surge.policy import surge_policy


def may_batch_review(user) -> bool:
    """The review desk, across enterprises; never a user bound to one enterprise."""
    return bool(user and user.is_authenticated and user.is_active and user.is_desk and not user.enterprise_id)


def batch_window() -> timedelta:
    minutes = settings.BATCH["WINDOW_MINUTES"] or surge_policy().window_minutes
    return timedelta(minutes=minutes)


def groups_for(user) -> QuerySet[BatchGroup]:
    if not may_batch_review(user):
        return BatchGroup.objects.none()
    return BatchGroup.objects.select_related("created_by", "recommended_by", "confirmed_by", "surge_alert").annotate(
        n_members=Count("members"),
        n_active=Count("members", filter=Q(members__status__in=ACTIVE_MEMBER_STATUSES)),
        n_decided=Count("members", filter=Q(members__status=MemberStatus.DECIDED)),
    ).order_by("-created_at", "-id")


def group_get(*, user, pk) -> BatchGroup:
    try:
        return groups_for(user).get(pk=pk)
    except (BatchGroup.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def group_members(*, group: BatchGroup) -> QuerySet[BatchMember]:
    return group.members.select_related(
        "appeal", "appeal__enterprise", "appeal__incident", "appeal__incident__account",
        "appeal__first_reviewer", "appeal__second_reviewer",
    ).order_by("id")


def grouped_appeal_ids() -> QuerySet:
    return BatchMember.objects.filter(status__in=ACTIVE_MEMBER_STATUSES).values("appeal_id")


def covering_alert(*, kind: str, submitted_from: datetime | None, submitted_to: datetime | None) -> SurgeAlert | None:
    """The surge alert (of all appeals, or of this incident kind) whose span covers the cases'
    submissions: opened from a window that starts before the last, not resolved before the first."""
    if submitted_from is None or submitted_to is None:
        return None
    return (
        SurgeAlert.objects.filter(Q(dimension=SurgeDimension.ALL) | Q(dimension=SurgeDimension.KIND, value=kind))
        .filter(window_start__lte=submitted_to)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=submitted_from))
        .order_by("-opened_at", "-id").first()
    )


@dataclass
class Proposal:
    key: str
    kind: str
    reason: str
    banned_from: datetime
    banned_to: datetime
    risk_rules: list[str]
    references: list[str]
    enterprises: int
    surge_alert: SurgeAlert | None

    @property
    def size(self) -> int:
        return len(self.references)


def _key(references: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(references)).encode()).hexdigest()[:16]


def batch_proposals(*, user) -> list[Proposal]:
    """Groups of alike open appeals in first review that no group holds yet, largest first."""
    if not may_batch_review(user):
        return []
    rows = list(
        appeals_for(user).filter(state=AppealState.FIRST_REVIEW).exclude(pk__in=grouped_appeal_ids())
        .order_by().values("id", "reference", "enterprise_id", "submitted_at", "incident__kind", "incident__reason",
                           "incident__banned_at")
    )
    by_id = {r["id"]: r for r in rows}
    rules = risk_flag_rules(list(by_id))
    cases = [Case(id=r["id"], kind=r["incident__kind"], reason=r["incident__reason"], banned_at=r["incident__banned_at"],
                  rules=frozenset(rules.get(r["id"], ()))) for r in rows]
    conf = settings.BATCH
    out = []
    for cluster in group_alike(cases, window=batch_window(), jaccard_min=conf["RISK_JACCARD_MIN"],
                               min_size=conf["MIN_GROUP_SIZE"], max_size=conf["MAX_GROUP_SIZE"]):
        members = [by_id[c.id] for c in cluster.cases]
        submitted = [m["submitted_at"] for m in members if m["submitted_at"]]
        references = [m["reference"] for m in members]
        out.append(Proposal(
            key=_key(references), kind=cluster.kind, reason=cluster.reason, banned_from=cluster.banned_from,
            banned_to=cluster.banned_to, risk_rules=cluster.rules, references=references,
            enterprises=len({m["enterprise_id"] for m in members}),
            surge_alert=covering_alert(kind=cluster.kind, submitted_from=min(submitted, default=None),
                                       submitted_to=max(submitted, default=None)),
        ))
    return out


def member_counts(*, group: BatchGroup) -> dict[str, int]:
    counts = dict.fromkeys(MemberStatus.values, 0)
    for row in group.members.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def batch_progress(*, group: BatchGroup) -> dict:
    group.refresh_from_db(fields=["state", "job_total", "job_done", "job_skipped", "job_started_at", "job_finished_at"])
    handled = group.job_done + group.job_skipped
    return {
        "state": group.state,
        "running": group.is_running,
        "total": group.job_total,
        "done": group.job_done,
        "skipped": group.job_skipped,
        "pending": max(0, group.job_total - handled),
        "percent": round(100 * handled / group.job_total) if group.job_total else 100,
        "started_at": group.job_started_at,
        "finished_at": group.job_finished_at,
    }


def appeals_of(group: BatchGroup) -> QuerySet[Appeal]:
    return Appeal.objects.filter(pk__in=group.members.values("appeal_id"))
