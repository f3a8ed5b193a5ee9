"""Surge detection: counting submissions per slice, the rule, and the alerts it opens.

Counting. Every submission adds one to a per-minute bucket of four slices: all appeals,
its platform, its incident kind and its enterprise. With REDIS_URL the buckets are Redis
keys (INCR + EXPIRE in one MULTI/EXEC); the database (Appeal.submitted_at) stays the
source of truth, and the keys are rebuilt from it whenever Redis has lost them (a marker
key goes missing). Embedded (no REDIS_URL) the same questions are answered by bounded
queries on Appeal.submitted_at.

The rule (`surge_rule`, pure): a slice surges when the appeals in the last W minutes
exceed both the floor and FACTOR x the usual level, the usual level being the median of
the same W minutes on each of the previous H days. See docs/surge.md.

Both the per-submission check and the beat task (`surge_scan`) call `surge_evaluate`,
so they decide identically. All functions that depend on the time take `now`.

Transactions (appeals.shared.db): opening, acknowledging, resolving and auto-resolving an
alert and the settings update are entry points, one durable transaction each. The check and
the scan are not transactions themselves: they run after the submission committed (or from
beat) and open or resolve each alert in its own transaction.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object
from appeals.core.models import Appeal, Role, User
from appeals.core.models.appeal import CLOSED_STATES
from appeals.core.workflow import Action
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_queue
from appeals.shared.db import entry_point
from appeals.shared.exceptions import InvalidTransition, NotFound, RateLimited, ValidationFailed
from appeals.shared.writes import require, snapshot, validate_model
from appeals.surge.counters import DatabaseCounts, FailOpenRedisCounts, RedisCounts, redis_client, surge_counts  # noqa: F401
from appeals.surge.models import (
    ACTIVE_SURGE_STATES,
    SurgeAlert,
    SurgeResolution,
    SurgeSettings,
    SurgeState,
)
from appeals.surge.policy import POLICY_FIELDS, SurgePolicy, default_policy, forget_policy, surge_policy  # noqa: F401
from appeals.surge.rule import Verdict, last_surging, sliding_sums, surge_rule, surging_minutes  # noqa: F401
from appeals.surge.slices import (  # noqa: F401
    ALL_SLICE,
    MINUTES_PER_DAY,
    Slice,
    appeal_slices,
    minute_of,
    minute_start,
    slice_label,
    slice_q,
    slices_of,
    window_ends,
)

logger = logging.getLogger(__name__)

EMERGENCY_CACHE_KEY = "surge:emergency-active"
IN_PROCESS_SCAN_KEY = "surge:in-process-scan"


# --- the decision -------------------------------------------------------------------------------


def _sums_or_fallback(counts, slices, ends, window):
    try:
        return counts.window_sums(slices, ends, window)
    except Exception as exc:  # Redis down: answer from the database rather than not at all
        if isinstance(counts, DatabaseCounts):
            raise
        logger.warning("surge counters unavailable (%s); counting from the database", exc)
        return DatabaseCounts().window_sums(slices, ends, window)


def surge_evaluate(*, slices: Iterable[Slice], now: datetime, policy: SurgePolicy, counts=None, windows_back: int = 0) -> dict[Slice, Verdict]:
    """The rule applied to each slice for the window ending at now (or `windows_back`
    windows earlier). Slices at or under the floor are decided without reading history."""
    counts = counts or surge_counts()
    slices = list(dict.fromkeys(slices))
    ends = window_ends(now=now, policy=policy, windows_back=windows_back)
    current = _sums_or_fallback(counts, slices, ends[:1], policy.window_minutes)
    verdicts = {}
    busy = []
    for s in slices:
        count = current[s][0]
        if count <= policy.floor:
            verdicts[s] = surge_rule(count=count, history=[], floor=policy.floor, factor=policy.factor)
        else:
            busy.append(s)
    if busy:
        history = _sums_or_fallback(counts, busy, ends[1:], policy.window_minutes)
        for s in busy:
            verdicts[s] = surge_rule(count=current[s][0], history=history[s], floor=policy.floor, factor=policy.factor)
    return verdicts


def _buckets_or_fallback(counts, slices, firsts, length):
    try:
        return counts.minute_buckets(slices, firsts, length)
    except Exception as exc:  # Redis down: answer from the database rather than not at all
        if isinstance(counts, DatabaseCounts):
            raise
        logger.warning("surge counters unavailable (%s); counting from the database", exc)
        return DatabaseCounts().minute_buckets(slices, firsts, length)


def surge_last_surging_minutes(*, slices: Iterable[Slice], now: datetime, policy: SurgePolicy, counts=None) -> dict[Slice, int | None]:
    """For each slice, the last minute of the quiet span (Q x W minutes ending now) at which it
    surged, judging every minute by the window ending there (a sliding window: a burst
    straddling two back-to-back windows still counts whole); None when the whole span was quiet.

    One read of today's one-minute buckets for every slice; the same minutes on the previous
    days are read (again in one go) only for the slices with some minute above the floor."""
    counts = counts or surge_counts()
    slices = list(dict.fromkeys(slices))
    if not slices:
        return {}
    span = policy.quiet_windows * policy.window_minutes
    last = minute_of(now)
    first_bucket = last - span - policy.window_minutes + 2
    length = span + policy.window_minutes - 1
    today = {s: rows[0] for s, rows in _buckets_or_fallback(counts, slices, [first_bucket], length).items()}
    busy = [s for s in slices if any(n > policy.floor for n in sliding_sums(today[s], policy.window_minutes))]
    out: dict[Slice, int | None] = dict.fromkeys(slices)
    if busy:
        firsts = [first_bucket - day * MINUTES_PER_DAY for day in range(1, policy.history_days + 1)]
        history = _buckets_or_fallback(counts, busy, firsts, length)
        for s in busy:
            flags = surging_minutes(today=today[s], history=history[s], window=policy.window_minutes,
                                    floor=policy.floor, factor=policy.factor)
            index = last_surging(flags)
            out[s] = None if index is None else last - span + 1 + index
    return out


def surge_last_surging_minute(*, slice_: Slice, now: datetime, policy: SurgePolicy, counts=None) -> int | None:
    """The last surging minute of one slice in the quiet span (see surge_last_surging_minutes)."""
    return surge_last_surging_minutes(slices=[slice_], now=now, policy=policy, counts=counts)[slice_]


def surge_is_quiet(*, slice_: Slice, now: datetime, policy: SurgePolicy, counts=None) -> bool:
    """True when the slice has not surged at any minute of the last `quiet_windows` x
    `window_minutes` minutes (README: an alert closes 30 minutes after the last surging minute)."""
    return surge_last_surging_minute(slice_=slice_, now=now, policy=policy, counts=counts) is None


# --- alerts ----------------------------------------------------------------------------------------


def _alert_snapshot(alert: SurgeAlert) -> dict:
    return snapshot(alert, ["dimension", "value", "state", "count", "usual", "ratio", "resolution", "comment"])


def _emergency_changed() -> None:
    # Now (for this transaction's own reads) and again after commit (a reader in between may
    # have cached the state from before).
    cache.delete(EMERGENCY_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(EMERGENCY_CACHE_KEY))


def active_alert_slices(slices: Iterable[Slice]) -> set[Slice]:
    q = Q()
    for dimension, value in slices:
        q |= Q(dimension=dimension, value=value)
    return set(SurgeAlert.objects.filter(q, state__in=ACTIVE_SURGE_STATES).values_list("dimension", "value"))


@entry_point
def surge_alert_open(*, slice_: Slice, verdict: Verdict, policy: SurgePolicy, now: datetime) -> SurgeAlert | None:
    """Open the slice's alert, unless one is already active (then None). Race-free: the
    conditional unique constraint lets exactly one concurrent opener in."""
    window_start = minute_start(minute_of(now) - policy.window_minutes + 1)
    # A manager who just closed this slice's alert by hand is not paged again for the same
    # wave: the slice gets the auto-resolve period (quiet windows x window) of grace.
    grace = timedelta(minutes=policy.quiet_windows * policy.window_minutes)
    if SurgeAlert.objects.filter(
        dimension=slice_[0], value=slice_[1], resolution=SurgeResolution.MANUAL, resolved_at__gt=now - grace
    ).exists():
        return None
    alert = SurgeAlert(
        dimension=slice_[0],
        value=slice_[1],
        window_minutes=policy.window_minutes,
        window_start=window_start,
        count=verdict.count,
        usual=verdict.usual,
        ratio=verdict.ratio,
        floor=policy.floor,
        factor=policy.factor,
        opened_at=now,
    )
    try:
        with transaction.atomic():
            alert.save(force_insert=True)
    except IntegrityError:
        return None
    # The appeals that make up the burst are the emergency's first cases.
    flagged = (
        Appeal.objects.filter(slice_q(slice_), submitted_at__gte=window_start, submitted_at__lte=now, is_emergency=False)
        .exclude(state__in=CLOSED_STATES)
        .update(is_emergency=True)
    )
    audit_object(actor=None, action="surge.open", obj=alert, after={**_alert_snapshot(alert), "flagged_appeals": flagged})
    surge_notify_managers(alert=alert)  # outbox rows in this transaction, delivered after commit
    _emergency_changed()
    logger.warning("surge alert opened: %s, %d appeals in %d min (usual %.1f)", slice_, verdict.count, policy.window_minutes, verdict.usual)
    return alert


def _lock_alert(alert: SurgeAlert) -> SurgeAlert:
    try:
        return SurgeAlert.objects.select_for_update().get(pk=alert.pk)
    except SurgeAlert.DoesNotExist:
        raise NotFound() from None


@entry_point
def surge_alert_acknowledge(*, alert: SurgeAlert, by, comment: str = "", now: datetime | None = None) -> SurgeAlert:
    require(by is not None and by.has_role(Role.MANAGER), _("Only a manager may acknowledge a surge alert."))
    alert = _lock_alert(alert)
    if alert.state != SurgeState.OPEN:
        raise InvalidTransition(
            _("This alert is %(state)s; only an open alert can be acknowledged.") % {"state": alert.get_state_display()},
            state=alert.state,
            action="acknowledge",
        )
    before = _alert_snapshot(alert)
    alert.state = SurgeState.ACKNOWLEDGED
    alert.acknowledged_at = now or timezone.now()
    alert.acknowledged_by = by
    alert.comment = (comment or "").strip() or alert.comment
    alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "comment"])
    audit_object(actor=by, action="surge.acknowledge", obj=alert, before=before, after=_alert_snapshot(alert))
    return alert


def _resolve(alert: SurgeAlert, *, by, resolution: str, comment: str, now: datetime) -> SurgeAlert:
    before = _alert_snapshot(alert)
    alert.state = SurgeState.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = by
    alert.resolution = resolution
    alert.comment = (comment or "").strip() or alert.comment
    alert.save(update_fields=["state", "resolved_at", "resolved_by", "resolution", "comment"])
    audit_object(actor=by, action=f"surge.resolve.{resolution}", obj=alert, before=before, after=_alert_snapshot(alert))
    _emergency_changed()
    return alert


@entry_point
def surge_alert_resolve(*, alert: SurgeAlert, by, comment: str = "", now: datetime | None = None) -> SurgeAlert:
    require(by is not None and by.has_role(Role.MANAGER), _("Only a manager may resolve a surge alert."))
    alert = _lock_alert(alert)
    if alert.state == SurgeState.RESOLVED:
        raise InvalidTransition(_("This alert is already resolved."), state=alert.state, action="resolve")
    return _resolve(alert, by=by, resolution=SurgeResolution.MANUAL, comment=comment, now=now or timezone.now())


@entry_point
def surge_alert_auto_resolve(*, alert: SurgeAlert, now: datetime) -> SurgeAlert | None:
    alert = _lock_alert(alert)
    if alert.state == SurgeState.RESOLVED:
        return None
    return _resolve(alert, by=None, resolution=SurgeResolution.AUTO, comment="", now=now)


# --- where the rule runs: each submission, and every minute ------------------------------------------


def surge_check_submission(*, slices: Sequence[Slice], at: datetime, skip: Iterable[Slice] = (), counts=None) -> list[SurgeAlert]:
    """After a submission commits: count it, then apply the rule to its slices."""
    counts = counts or surge_counts()
    policy = surge_policy()
    try:
        counts.record(slices, at, policy)
    except Exception as exc:  # never let the counters fail a submission; the scan catches up
        logger.warning("surge counter not recorded (%s)", exc)
    surge_scan_in_process_if_due(now=at)
    skip = set(skip)
    verdicts = surge_evaluate(slices=[s for s in slices if s not in skip], now=at, policy=policy, counts=counts)
    opened = []
    for s, verdict in verdicts.items():
        if verdict.surging:
            alert = surge_alert_open(slice_=s, verdict=verdict, policy=policy, now=at)
            if alert:
                opened.append(alert)
    return opened


def on_submission(appeal, transition, by, event) -> None:
    """Workflow listener (inside the submit transaction): flag the appeal if its slice is in
    an emergency now, and count it once the submission has committed."""
    if transition.action != Action.SUBMIT:
        return
    slices = appeal_slices(appeal)
    # The cached "any alert open?" answer spares the common case a query; the scan flags any
    # appeal this misses (a stale cache, or an alert opening while this transaction runs).
    active = active_alert_slices(slices) if surge_emergency_active(scan=False) else set()
    if active and not appeal.is_emergency:
        Appeal.objects.filter(pk=appeal.pk).update(is_emergency=True)
        appeal.is_emergency = True
    at = appeal.submitted_at

    def check_after_commit():
        surge_check_submission(slices=slices, at=at, skip=active)

    # Robust: a failing check is logged and never reaches the applicant, whose submission has
    # committed (the scan catches up). A plain function, not functools.partial: Django 5.2's
    # robust path reads func.__qualname__ to log, and a partial has none (ticket #36487),
    # so the logging itself would raise into the request.
    transaction.on_commit(check_after_commit, robust=True)


@dataclass
class ScanReport:
    checked: int = 0
    flagged: int = 0
    opened: list = field(default_factory=list)
    resolved: list = field(default_factory=list)


def _flag_stragglers(alert: SurgeAlert, *, now: datetime) -> int:
    """Flag the slice's open appeals submitted since the alert opened that the listener
    missed (submitted while the alert was being opened). Bounded by the submitted_at index."""
    return (
        Appeal.objects.filter(slice_q((alert.dimension, alert.value)), submitted_at__gte=alert.opened_at, submitted_at__lte=now, is_emergency=False)
        .exclude(state__in=CLOSED_STATES)
        .update(is_emergency=True)
    )


def surge_scan(*, now: datetime | None = None, counts=None) -> ScanReport:
    """The every-minute task: open alerts the per-submission check missed, auto-resolve the
    quiet ones. Reads only the slices seen in the current window and the open alerts."""
    now = now or timezone.now()
    counts = counts or surge_counts()
    policy = surge_policy()
    report = ScanReport()
    active_alerts = list(SurgeAlert.objects.filter(state__in=ACTIVE_SURGE_STATES))
    alerted = {(a.dimension, a.value) for a in active_alerts}
    last = minute_of(now)
    try:
        seen = counts.active_slices(last - policy.window_minutes + 1, last)
    except Exception as exc:
        logger.warning("surge counters unavailable (%s); scanning the database", exc)
        seen = DatabaseCounts().active_slices(last - policy.window_minutes + 1, last)
    candidates = sorted(seen - alerted)
    report.checked = len(candidates)
    for s, verdict in surge_evaluate(slices=candidates, now=now, policy=policy, counts=counts).items():
        if verdict.surging:
            alert = surge_alert_open(slice_=s, verdict=verdict, policy=policy, now=now)
            if alert:
                report.opened.append(alert)
    quiet_after = timedelta(minutes=policy.quiet_windows * policy.window_minutes)
    for alert in active_alerts:
        report.flagged += _flag_stragglers(alert, now=now)
    # Old enough to close: quiet when no minute of the last Q x W surged (all alerts in one read).
    due = [a for a in active_alerts if now >= a.opened_at + quiet_after]
    last_surging_at = surge_last_surging_minutes(slices=[(a.dimension, a.value) for a in due], now=now, policy=policy, counts=counts)
    for alert in due:
        if last_surging_at[(alert.dimension, alert.value)] is None and surge_alert_auto_resolve(alert=alert, now=now):
            report.resolved.append(alert)
    return report


# --- the emergency channel -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EmergencyState:
    active: bool
    hotline: str
    since: datetime | None
    alerts: tuple = ()


def surge_scan_in_process_if_due(*, now: datetime | None = None) -> ScanReport | None:
    """Embedded mode has no Celery beat (tasks run in-process): there the scan runs from the
    request path instead, at most once a minute per process."""
    if not settings.CELERY_TASK_ALWAYS_EAGER or not cache.add(IN_PROCESS_SCAN_KEY, 1, 60):
        return None
    try:
        return surge_scan(now=now)
    except Exception:  # a page must never fail because the scan did
        logger.exception("in-process surge scan failed")
        return None


def surge_emergency_active(*, scan: bool = True) -> bool:
    """Cheap: cached until an alert opens or closes (and for a minute at most)."""
    if scan:
        surge_scan_in_process_if_due()
    active = cache.get(EMERGENCY_CACHE_KEY)
    if active is None:
        active = SurgeAlert.objects.filter(state__in=ACTIVE_SURGE_STATES).exists()
        cache.set(EMERGENCY_CACHE_KEY, active, 60)
    return active


def surge_emergency_state() -> EmergencyState:
    if not surge_emergency_active():
        return EmergencyState(active=False, hotline=surge_policy().hotline, since=None)
    alerts = tuple(SurgeAlert.objects.filter(state__in=ACTIVE_SURGE_STATES).order_by("opened_at"))
    return EmergencyState(
        active=bool(alerts), hotline=surge_policy().hotline, since=alerts[0].opened_at if alerts else None, alerts=alerts
    )


# --- the managers' settings ---------------------------------------------------------------------------


@entry_point
def surge_settings_update(*, by, **fields) -> SurgeSettings:
    require(by is not None and by.has_role(Role.MANAGER), _("Only a manager may change the surge settings."))
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(fields={k: [_("Unknown setting.")] for k in sorted(unknown)})
    current = surge_policy()
    row = SurgeSettings.objects.select_for_update().filter(pk=1).first() or SurgeSettings(
        pk=1, **{f: getattr(current, f) for f in POLICY_FIELDS}
    )
    before = {f: getattr(current, f) for f in POLICY_FIELDS}
    for key, value in fields.items():
        setattr(row, key, value.strip() if isinstance(value, str) else value)
    row.updated_by = by
    validate_model(row, exclude=["updated_by"])
    row.save()
    forget_policy()
    transaction.on_commit(forget_policy)
    after = {f: getattr(row, f) for f in POLICY_FIELDS}
    audit_object(actor=by, action="surge.settings", obj=row, before=before, after=after)
    if (before["history_days"], before["window_minutes"], before["quiet_windows"]) != (
        after["history_days"],
        after["window_minutes"],
        after["quiet_windows"],
    ) and settings.REDIS_URL:
        # A longer horizon needs buckets the old expiry let go: recount from the database.
        def forget_counters():
            FailOpenRedisCounts().forget()

        transaction.on_commit(forget_counters)
    return row


# --- notifications -------------------------------------------------------------------------------------


def _managers():
    return User.objects.filter(is_active=True, is_manager=True).order_by("pk")


def _surge_params(alert: SurgeAlert, language: str) -> dict:
    """What the managers' email says: what jumped, by how much, since when, where to act."""
    with translation.override(language):
        label = slice_label(alert.dimension, alert.value)
    return {
        "slice": label,
        "count": alert.count,
        "window": alert.window_minutes,
        "since": timezone.localtime(alert.window_start).strftime("%Y-%m-%d %H:%M"),
        "usual": f"{alert.usual:g}",
        "ratio": f"{alert.ratio:g}" if alert.ratio else "",
        "opened": timezone.localtime(alert.opened_at).strftime("%Y-%m-%d %H:%M"),
        "hotline": surge_policy().hotline,
        "url": f"{settings.SURGE['SITE_URL'].rstrip('/')}/surge/{alert.pk}/",
    }


@transaction.atomic
def surge_notify_managers(*, alert: SurgeAlert) -> list[Message]:
    """Queue one outbox message per manager per channel (email; SMS to those with a phone),
    keyed `surge:<alert>:<channel>:<manager>`: calling it again queues nothing more. Delivery,
    retries and worker-death recovery are the outbox's."""
    language = settings.LANGUAGE_CODE
    email = _surge_params(alert, language)
    sms = {k: str(email[k]) for k in ("slice", "count", "window", "usual")}
    queued = []
    for manager in _managers():
        for channel, recipient, params in ((Channel.EMAIL, manager.email, email), (Channel.SMS, manager.phone, sms)):
            if not recipient:
                continue
            try:
                queued.append(message_queue(
                    channel=channel, recipient=recipient, template="surge_alert", params=params, language=language,
                    idempotency_key=f"surge:{alert.pk}:{channel}:{manager.pk}", topic=SurgeAlert.TOPIC, topic_id=alert.pk,
                ))
            except ValidationFailed:  # one manager's unusable address must not stop the alert
                logger.warning("surge alert %s: manager %s has an unusable %s address", alert.pk, manager.pk, channel)
            except RateLimited:  # the phone's daily SMS cap (the email still goes)
                logger.warning("surge alert %s: manager %s's phone reached its daily SMS cap", alert.pk, manager.pk)
    return queued
