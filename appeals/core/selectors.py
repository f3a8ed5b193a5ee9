"""Every read, scoped to the user who asks. Tenancy lives here.

An enterprise admin's querysets are filtered to their enterprise, so another tenant's
object is simply not found. Desk staff see every enterprise, but not applicants' drafts.
"""

from datetime import timedelta

from django.conf import settings
from django.db import router
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from appeals.core import plugins
from appeals.core import search as appeal_search
from appeals.core.models import Appeal, AppealEvent, AppealState, BanIncident, Enterprise, MessagingAccount, User
from appeals.shared.db import prepared_values
from appeals.shared.exceptions import NotFound


def tenant_scope(user) -> tuple:
    """What this user's reads are scoped to, as every value the tenant filter is built from:
    ("enterprise", id) for an enterprise admin, ("desk",) for desk staff, ("none",) otherwise.
    A statement compiled for one scope is the statement of every user with the same scope."""
    if not user or not user.is_authenticated or not user.is_active:
        return ("none",)
    if user.is_enterprise_admin:
        return ("enterprise", user.enterprise_id)
    if user.is_desk:
        return ("desk",)
    return ("none",)


def _tenant_filter(qs: QuerySet, user, field: str = "enterprise_id") -> QuerySet:
    scope = tenant_scope(user)
    if scope[0] == "enterprise":
        return qs.filter(**{field: scope[1]})
    if scope[0] == "desk":
        return qs
    return qs.none()


def enterprises_for(user) -> QuerySet[Enterprise]:
    return _tenant_filter(Enterprise.objects.all(), user, "id")


def accounts_for(user) -> QuerySet[MessagingAccount]:
    return _tenant_filter(MessagingAccount.objects.select_related("enterprise"), user)


def incidents_for(user) -> QuerySet[BanIncident]:
    return _tenant_filter(BanIncident.objects.select_related("account", "enterprise"), user)


def incidents_ready_to_appeal(user) -> QuerySet[BanIncident]:
    """The applicant's incidents with no appeal yet (pushed by the enforcement system, or recorded
    and never filed), newest first."""
    if not user or not user.is_authenticated or not user.is_enterprise_admin:
        return BanIncident.objects.none()
    return incidents_for(user).filter(appeals__isnull=True).order_by("-banned_at", "-id")


def with_incident_sources(incidents) -> list[BanIncident]:
    """The incidents as a list, each with `.source_label` ("" when no capability names it)."""
    incidents = list(incidents)
    labels = plugins.incident_sources([i.pk for i in incidents])
    for incident in incidents:
        incident.source_label = labels.get(incident.pk, "")
    return incidents


def appeals_for(user) -> QuerySet[Appeal]:
    qs = _tenant_filter(
        Appeal.objects.select_related(
            *plugins.appeal_related(),
            "enterprise", "incident", "incident__account", "filed_by", "first_reviewer", "second_reviewer"
        ),
        user,
    )
    if user and user.is_authenticated and not user.is_enterprise_admin:
        qs = qs.exclude(state=AppealState.DRAFT)
    return qs


# What one row of the appeal list shows (AppealListOutput), read as values: no model instances,
# no column the list does not show, no join a capability registered for the case page.
APPEAL_LIST_VALUES = (
    "reference", "state", "enterprise_id", "enterprise__name", "incident_id", "incident__kind", "incident__severity",
    "incident__account__platform", "incident__account__display_name", "filed_by__username",
    "first_reviewer__username", "second_reviewer__username", "submitted_at", "decided_at", "created_at",
)


def appeal_list_for(user) -> QuerySet[Appeal]:
    """The appeal list's rows, newest first (indexes appeal_desk_list / appeal_tenant_list /
    appeal_state_list serve this order); filter it, then read `.values(*APPEAL_LIST_VALUES)`."""
    qs = _tenant_filter(Appeal.objects.all(), user)
    if user and user.is_authenticated and not user.is_enterprise_admin:
        # Written as a literal, not a parameter: the desk's index (appeal_desk_list) is partial on
        # exactly this condition, and a prepared statement's generic plan can only use it if the
        # condition is in the SQL text (see prepared_values).
        qs = qs.filter(RawSQL(f"\"appeals_appeal\".\"state\" <> '{AppealState.DRAFT.value}'", (), output_field=BooleanField()))
    return qs.order_by("-created_at", "-id")


def appeal_list_page(filtered, bottom: int, top: int, *, unfiltered_for=None) -> list[dict]:
    """A slice of the list (already scoped, filtered and ordered) read with its joins in one
    query, a prepared statement on PostgreSQL (its plan costs more than its run).

    `unfiltered_for`: the user, when `filtered` is `appeal_list_for(user)` as it is (no filter,
    no search): the statement is then determined by the user's tenant scope and the slice, and
    its compiled SQL is kept per process (prepared_values' memo) instead of compiled per request.
    `filtered` may then be a zero-argument callable returning that queryset, called only when
    the statement is not kept yet."""
    memo = None if unfiltered_for is None else ("appeal-list", tenant_scope(unfiltered_for), bottom, top)
    source = filtered if callable(filtered) else lambda: filtered
    using = router.db_for_read(Appeal) if callable(filtered) else filtered.db
    return prepared_values(lambda: source().values("pk", *APPEAL_LIST_VALUES)[bottom:top], ("pk", *APPEAL_LIST_VALUES),
                           memo=memo, using=using)


def appeal_list_rows(ids: list[int]) -> dict[int, dict]:
    """The list's columns for these appeals (already scoped and paged by the caller), by id."""
    rows = prepared_values(Appeal.objects.filter(pk__in=ids).values("pk", *APPEAL_LIST_VALUES), ("pk", *APPEAL_LIST_VALUES))
    return {row["pk"]: row for row in rows}


def _get(qs: QuerySet, **lookup):
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def appeal_get(*, user, reference: str) -> Appeal:
    return _get(appeals_for(user), reference=reference)


def incident_get(*, user, pk) -> BanIncident:
    return _get(incidents_for(user), pk=pk)


def account_get(*, user, pk) -> MessagingAccount:
    return _get(accounts_for(user), pk=pk)


def appeal_timeline(*, appeal: Appeal) -> QuerySet[AppealEvent]:
    return AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("created_at", "id")


def prior_incidents(*, incident: BanIncident) -> QuerySet[BanIncident]:
    """The same account's incidents in the lookback period before this one (DOMAIN.md: repeat offenders)."""
    since = incident.banned_at - timedelta(days=settings.APPEALS["PRIOR_INCIDENT_LOOKBACK_DAYS"])
    return (
        BanIncident.objects.filter(account_id=incident.account_id, banned_at__gte=since, banned_at__lte=incident.banned_at)
        .exclude(pk=incident.pk)
        .order_by("-banned_at")
    )


def _queue_order(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """Reviewer queues: emergency cases (filed in a surging slice) first, then the keys the
    capabilities registered (the SLA clock: due soonest on top), then first come, first served."""
    return qs.order_by("-is_emergency", *plugins.queue_order(), "submitted_at", "id")


def first_review_queue(*, user, search: str = "") -> QuerySet[Appeal]:
    return _queue_order(appeal_search.search_appeals(appeals_for(user).filter(state=AppealState.FIRST_REVIEW), search))


def second_review_queue(*, user, search: str = "") -> QuerySet[Appeal]:
    return _queue_order(appeal_search.search_appeals(appeals_for(user).filter(state=AppealState.SECOND_REVIEW), search))


def escalated_cases(*, user) -> QuerySet[Appeal]:
    return appeals_for(user).filter(state=AppealState.ESCALATED).order_by("submitted_at", "id")


def reviewers(*, role_field: str) -> QuerySet[User]:
    return User.objects.filter(is_active=True, **{role_field: True}).order_by("username")


def appeals_filtered(*, user, state: str = "", kind: str = "", date_from=None, date_to=None, search: str = "") -> QuerySet[Appeal]:
    """The case list: the user's appeals narrowed by words, state, incident kind and filing date (local days)."""
    qs = appeals_for(user)
    if search:
        qs = appeal_search.search_appeals(qs, search)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(incident__kind=kind)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def appeal_state_counts(*, user) -> dict[str, int]:
    """How many of the user's visible appeals are in each state (every state present, zero if none)."""
    counts = dict.fromkeys(AppealState.values, 0)
    for row in appeals_for(user).order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def accounts_of_enterprise(*, user) -> QuerySet[MessagingAccount]:
    """The messaging accounts an applicant may file for: their own enterprise's only."""
    if not user or not user.is_authenticated or not user.is_enterprise_admin:
        return MessagingAccount.objects.none()
    return accounts_for(user).order_by("display_name", "id")


def desk_user_find(*, identifier: str) -> User | None:
    """An active review-desk user by username or numeric id (a manager reassigning a case)."""
    lookup = Q(username=identifier)
    if identifier.isascii() and identifier.isdigit() and len(identifier) < 19:
        lookup |= Q(pk=int(identifier))
    desk = Q(is_first_reviewer=True) | Q(is_second_reviewer=True) | Q(is_superuser=True)
    return User.objects.filter(lookup, desk, is_active=True).order_by("pk").first()


def first_review_recommenders_of(appeal_ids) -> dict[int, set[int]]:
    """For each appeal, everyone who recommended in any of its first reviews (one query)."""
    out: dict[int, set[int]] = {}
    rows = AppealEvent.objects.filter(
        appeal_id__in=list(appeal_ids), action__in=("recommend_approve", "recommend_reject"), actor__isnull=False
    ).values_list("appeal_id", "actor_id").distinct()
    for appeal_id, actor_id in rows:
        out.setdefault(appeal_id, set()).add(actor_id)
    return out
