"""The domain's own gauges, computed at scrape time with cheap, index-backed queries.

Appeals by state is the one figure that is not cheap live (a GROUP BY over every appeal ever
filed: see benchmarks/metrics_scrape.py for the numbers at 1M appeals), so it is an exact
snapshot taken by the beat task `ops-appeal-state-counts` (every BEAT_INTERVALS seconds, default
60) and exported with its age; the first scrape after Redis lost it takes the snapshot inline.
"""

import time

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from appeals.core.models import Appeal, AppealState
from appeals.notifications.models import Message, MessageState
from appeals.ops import store
from appeals.sla.models import AppealSla
from appeals.surge.models import ACTIVE_SURGE_STATES, SurgeAlert

PENDING_MESSAGE_STATES = (MessageState.QUEUED, MessageState.SENDING)


def refresh_state_counts() -> dict:
    rows = Appeal.objects.order_by().values_list("state").annotate(n=Count("pk"))
    counts = {state: 0 for state in AppealState.values}
    counts.update({state: n for state, n in rows})
    snapshot = {"at": time.time(), "counts": counts}
    store.save_state_counts(snapshot)
    return snapshot


def _state_counts() -> dict:
    return store.state_counts() or refresh_state_counts()


def outbox_backlog() -> tuple[dict[str, int], float | None]:
    rows = (Message.objects.filter(state__in=PENDING_MESSAGE_STATES).order_by()
            .values_list("state").annotate(n=Count("pk"), oldest=Min("created_at")))
    backlog = {state: 0 for state in PENDING_MESSAGE_STATES}
    oldest = None
    for state, n, first in rows:
        backlog[state] = n
        oldest = first if oldest is None or (first and first < oldest) else oldest
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return backlog, age


def open_surge_alerts() -> dict[str, int]:
    rows = SurgeAlert.objects.filter(state__in=ACTIVE_SURGE_STATES).order_by().values_list("state").annotate(n=Count("pk"))
    out = {state: 0 for state in ACTIVE_SURGE_STATES}
    out.update(dict(rows))
    return out


def sla_risk() -> dict[str, int]:
    """Running clocks of open cases: past due, and past the warning point but not yet due (the
    SLA report's definitions, appeals/sla/reports.py).

    Each is a count over one column of a partial index (sla_open_due, sla_open_warn), answered
    from the index alone. A warning always comes before the due time (WARN_AT_FRACTION <= 1), so
    "warned, not yet due" = "warned" - "due"; filtering on both columns at once reads every
    running clock's table row instead (about 25 ms at 20,000 open cases against 1 ms)."""
    now = timezone.now()
    running = AppealSla.objects.filter(closed_at__isnull=True, running_since__isnull=False)
    breached = running.filter(due_at__lte=now).count()
    if settings.APPEALS_SLA["WARN_AT_FRACTION"] <= 1:
        about = max(0, running.filter(warn_at__lte=now).count() - breached)
    else:
        about = running.filter(Q(due_at__gt=now) & Q(warn_at__lte=now)).count()
    return {"breached": breached, "about_to_breach": about}


class DomainCollector:
    """A prometheus_client collector; each group of figures fails alone (reported in
    appeals_metrics_errors) so a Redis outage still leaves the database's figures."""

    def describe(self):
        return []  # nothing is queried when the collector is registered

    def collect(self):
        errors = GaugeMetricFamily("appeals_metrics_errors", "Figures that could not be read in this scrape (1 = failed)",
                                   labels=["figure"])
        for name, fn in (("appeals_by_state", self._appeals_by_state), ("outbox", self._outbox), ("surge", self._surge),
                         ("sla", self._sla), ("task_failures", self._task_failures), ("worker_heartbeat", self._heartbeat)):
            try:
                yield from fn()
                errors.add_metric([name], 0)
            except Exception:
                errors.add_metric([name], 1)
        yield errors

    def _appeals_by_state(self):
        snapshot = _state_counts()
        g = GaugeMetricFamily("appeals_by_state", "Appeals in each state (exact, from the snapshot)", labels=["state"])
        for state, n in sorted(snapshot["counts"].items()):
            g.add_metric([state], n)
        yield g
        yield GaugeMetricFamily("appeals_by_state_snapshot_age_seconds", "Age of the appeals-by-state snapshot",
                                value=max(0.0, time.time() - snapshot["at"]))

    def _outbox(self):
        backlog, age = outbox_backlog()
        g = GaugeMetricFamily("appeals_outbox_backlog", "Outbox messages not yet sent or failed, by state", labels=["state"])
        for state, n in backlog.items():
            g.add_metric([state], n)
        yield g
        yield GaugeMetricFamily("appeals_outbox_oldest_pending_age_seconds",
                                "Age of the oldest queued or sending outbox message (0 when none)", value=age)

    def _surge(self):
        g = GaugeMetricFamily("appeals_surge_alerts_open", "Surge alerts keeping the emergency channel open, by state",
                              labels=["state"])
        for state, n in open_surge_alerts().items():
            g.add_metric([state], n)
        yield g

    def _sla(self):
        risk = sla_risk()
        yield GaugeMetricFamily("appeals_sla_breached", "Open cases whose SLA clock is running past its due time",
                                value=risk["breached"])
        yield GaugeMetricFamily("appeals_sla_about_to_breach", "Open cases past the SLA warning point, not yet due",
                                value=risk["about_to_breach"])

    def _task_failures(self):
        c = CounterMetricFamily("appeals_task_failures", "Celery task failures by task (all workers)", labels=["task"])
        for task, n in sorted(store.failures().items()):
            c.add_metric([task], n)
        yield c

    def _heartbeat(self):
        beats = store.heartbeats()
        age = time.time() - max(beats.values()) if beats else float("inf")
        yield GaugeMetricFamily("appeals_worker_heartbeat_age_seconds", "Seconds since the newest Celery worker heartbeat",
                                value=age)
        yield GaugeMetricFamily("appeals_workers_seen", "Workers with a heartbeat entry", value=len(beats))
