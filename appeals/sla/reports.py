"""Manager SLA reports: every figure is computed by the database (aggregates with FILTER,
percentile_cont on PostgreSQL), in a handful of queries over the AppealSla fact rows, never
by looping over cases in Python. SQLite (the embedded mode) has no percentile_cont: there the
percentiles come from ORDER BY ... LIMIT/OFFSET queries, still computed in the database.

Reads only; the manager role is required. Filters: period (dates, Asia/Shanghai),
enterprise, platform, incident kind, severity (the SLA tier), reviewer (first or second).
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from appeals.core import plugins
from appeals.core.models import AppealState, Enterprise, IncidentKind, OutcomeCode, Platform, Role, Severity, User
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.writes import require
from appeals.sla.models import AppealSla, ReportSnapshot, SlaPolicy, default_policy

DECIDED = [AppealState.APPROVED.value, AppealState.REJECTED.value]
MAX_PERIOD_DAYS = 400


class Seconds(Func):
    """end - start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arg_joiner = ", "

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday(", **extra)


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: percentile_cont(p) WITHIN GROUP (ORDER BY x)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    enterprise: int | None = None
    platform: str = ""
    kind: str = ""
    severity: str = ""
    reviewer: int | None = None

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def as_query(self) -> dict:
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for key in ("enterprise", "platform", "kind", "severity", "reviewer"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def parse_filters(params, *, today: date | None = None) -> ReportFilters:
    """Query parameters -> filters, with a field-level error for each bad one."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def day(name, default):
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = parse_date(raw)
        except ValueError:
            value = None
        if value is None:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return value or default

    def choice(name, choices):
        raw = (params.get(name) or "").strip()
        if raw and raw not in choices:
            errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]
            return ""
        return raw

    def ident(name):
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            errors[name] = [_("Enter a valid id.")]
            return None
        return int(raw)

    end = day("end", today)
    start = day("start", end - timedelta(days=29))
    if "start" not in errors and "end" not in errors:
        if start > end:
            errors["start"] = [_("The start must not be after the end.")]
        elif (end - start).days >= MAX_PERIOD_DAYS:
            errors["start"] = [_("Choose a period of at most %(n)s days.") % {"n": MAX_PERIOD_DAYS}]
    filters = ReportFilters(
        start=start,
        end=end,
        enterprise=ident("enterprise"),
        platform=choice("platform", Platform.values),
        kind=choice("kind", IncidentKind.values),
        severity=choice("severity", Severity.values),
        reviewer=ident("reviewer"),
    )
    if filters.enterprise and not Enterprise.objects.filter(pk=filters.enterprise).exists():
        errors["enterprise"] = [_("No such enterprise.")]
    if filters.reviewer and not User.objects.filter(pk=filters.reviewer).exists():
        errors["reviewer"] = [_("No such reviewer.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return filters


def _scoped(f: ReportFilters) -> QuerySet[AppealSla]:
    qs = AppealSla.objects.all()
    if f.enterprise:
        qs = qs.filter(enterprise_id=f.enterprise)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.kind:
        qs = qs.filter(appeal__incident__kind=f.kind)
    if f.platform:
        qs = qs.filter(appeal__incident__account__platform=f.platform)
    if f.reviewer:
        qs = qs.filter(Q(first_reviewer_id=f.reviewer) | Q(second_reviewer_id=f.reviewer))
    return qs


def _percentiles(qs: QuerySet, expr, percentiles=(0.5, 0.9)) -> dict[float, float | None]:
    """SQLite fallback: percentile_cont by linear interpolation between two ordered rows."""
    values = qs.annotate(_v=expr).filter(_v__isnull=False)
    n = values.count()
    out = {}
    for p in percentiles:
        if n == 0:
            out[p] = None
            continue
        pos = p * (n - 1)
        lo = math.floor(pos)
        pair = list(values.order_by("_v").values_list("_v", flat=True)[lo:lo + 2])
        frac = pos - lo
        out[p] = pair[0] + (pair[1] - pair[0]) * frac if len(pair) == 2 else pair[0]
    return out


def _with_percentiles(qs: QuerySet, aggregates: dict, name: str, expr, condition: Q) -> dict:
    """Add p50/p90 of expr (where condition holds) to one aggregate query, or compute them apart."""
    if connection.vendor == "postgresql":
        aggregates[f"{name}_p50"] = PercentileCont(expr, 0.5, filter=condition)
        aggregates[f"{name}_p90"] = PercentileCont(expr, 0.9, filter=condition)
        return {}
    found = _percentiles(qs.filter(condition), expr)
    return {f"{name}_p50": found[0.5], f"{name}_p90": found[0.9]}


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600.0, 2)


def _rate(part, whole):
    return None if not whole else round(100.0 * part / whole, 1)


def sla_report(*, user, filters: ReportFilters, now: datetime | None = None) -> dict:
    require(user.has_role(Role.MANAGER))
    now = now or timezone.now()
    f = filters
    scoped = _scoped(f)
    in_period = {"gte": f.start_at, "lt": f.end_at}

    # 1. Cases opened in the period, and their time to first review (submitted -> first claim).
    opened_qs = scoped.filter(submitted_at__gte=in_period["gte"], submitted_at__lt=in_period["lt"])
    to_review = Seconds(F("first_claimed_at"), F("submitted_at"))
    aggs = {"opened": Count("pk")}
    extra = _with_percentiles(opened_qs, aggs, "first_review", to_review, Q(first_claimed_at__isnull=False))
    opened = {**opened_qs.aggregate(**aggs), **extra}

    # 2. Cases closed in the period: outcomes, compliance per tier, time to decision.
    closed_qs = scoped.filter(closed_at__gte=in_period["gte"], closed_at__lt=in_period["lt"])
    to_decision = Seconds(F("closed_at"), F("submitted_at"))
    aggs = {
        "closed": Count("pk"),
        "approved": Count("pk", filter=Q(outcome=AppealState.APPROVED)),
        "rejected": Count("pk", filter=Q(outcome=AppealState.REJECTED)),
        "withdrawn": Count("pk", filter=Q(outcome=AppealState.WITHDRAWN)),
        "automated": Count("pk", filter=~Q(auto_rule="")),
    }
    for tier in Severity.values:
        # Compliance counts decisions (approved / rejected, automated or not), not withdrawals.
        aggs[f"{tier}_measured"] = Count("pk", filter=Q(severity=tier, met__isnull=False, outcome__in=DECIDED))
        aggs[f"{tier}_met"] = Count("pk", filter=Q(severity=tier, met=True, outcome__in=DECIDED))
    extra = _with_percentiles(closed_qs, aggs, "decision", to_decision, Q(outcome__in=DECIDED))
    closed = {**closed_qs.aggregate(**aggs), **extra}

    # 2b. Outcome codes of the decisions closed in the period (appeals.core.decisions).
    code = OutcomeCode.objects.filter(code=OuterRef("appeal__outcome_code"))
    outcome_rows = list(closed_qs.filter(outcome__in=DECIDED).values("appeal__outcome_code")
                        .annotate(n=Count("pk"), code_outcome=Subquery(code.values("outcome")[:1]),
                                  label_en=Subquery(code.values("label_en")[:1]), label_zh=Subquery(code.values("label_zh")[:1]))
                        .order_by("-n", "appeal__outcome_code"))

    # 3. Open clocks now: breached and about to breach (at or past the warning point).
    running = scoped.filter(closed_at__isnull=True, running_since__isnull=False)
    risk = scoped.filter(closed_at__isnull=True).aggregate(
        breached=Count("pk", filter=Q(running_since__isnull=False, due_at__lte=now)),
        at_risk=Count("pk", filter=Q(running_since__isnull=False, warn_at__lte=now, due_at__gt=now)),
        paused=Count("pk", filter=Q(paused_at__isnull=False)),
        calendar_unconfirmed=Count("pk", filter=Q(running_since__isnull=False, calendar_unconfirmed=True)),
    )
    limit = settings.APPEALS_SLA["REPORT_LIST_LIMIT"]
    columns = ("appeal__reference", "appeal__enterprise__name", "severity", "appeal__state", "due_at", "appeal__first_reviewer__username",
               "appeal__second_reviewer__username", "calendar_unconfirmed")
    breached_rows = list(running.filter(due_at__lte=now).order_by("due_at").values(*columns)[:limit])
    at_risk_rows = list(running.filter(warn_at__lte=now, due_at__gt=now).order_by("due_at").values(*columns)[:limit])

    # 4. Reviewers: first-stage decisions and second-stage decisions in the period, open load now.
    #    (Reviewer and state are copied onto AppealSla, so these read one table; the OR of two
    #    index ranges becomes a BitmapOr on PostgreSQL.)
    open_now = Q(closed_at__isnull=True)
    first_done = Q(first_decided_at__gte=in_period["gte"], first_decided_at__lt=in_period["lt"])
    first = (
        scoped.filter(first_reviewer__isnull=False)
        .filter(first_done | open_now)
        .values("first_reviewer_id", "first_reviewer__username")
        .annotate(
            first_done=Count("pk", filter=first_done),
            first_open=Count("pk", filter=open_now & Q(state=AppealState.FIRST_REVIEW)),
        )
    )
    second_done = Q(closed_at__gte=in_period["gte"], closed_at__lt=in_period["lt"], outcome__in=DECIDED)
    second = (
        scoped.filter(second_reviewer__isnull=False)
        .filter(Q(closed_at__gte=in_period["gte"], closed_at__lt=in_period["lt"]) | open_now)
        .values("second_reviewer_id", "second_reviewer__username")
        .annotate(
            second_done=Count("pk", filter=second_done),
            second_open=Count("pk", filter=open_now & Q(state=AppealState.SECOND_REVIEW)),
        )
    )
    reviewers: dict[int, dict] = {}
    for row in first:
        r = reviewers.setdefault(row["first_reviewer_id"], {"reviewer": row["first_reviewer__username"]})
        r.update(first_done=row["first_done"], first_open=row["first_open"])
    for row in second:
        r = reviewers.setdefault(row["second_reviewer_id"], {"reviewer": row["second_reviewer__username"]})
        r.update(second_done=row["second_done"], second_open=row["second_open"])
    reviewer_rows = []
    for r in sorted(reviewers.values(), key=lambda r: r["reviewer"]):
        r = {"first_done": 0, "first_open": 0, "second_done": 0, "second_open": 0, **r}
        r["throughput"] = r["first_done"] + r["second_done"]
        r["open_load"] = r["first_open"] + r["second_open"]
        reviewer_rows.append(r)

    # 5. Weekly trend: opened and closed per week (weeks start on Monday, Asia/Shanghai).
    tz = timezone.get_current_timezone()
    opened_weeks = _weekly(opened_qs, "submitted_at", tz)
    closed_weeks = _weekly(closed_qs, "closed_at", tz)
    trend = []
    week = f.start - timedelta(days=f.start.weekday())
    while week <= f.end:
        trend.append({"week": week, "opened": opened_weeks.get(week, 0), "closed": closed_weeks.get(week, 0)})
        week += timedelta(days=7)

    compliance = []
    targets = _policy_targets()
    for tier in Severity.values:
        measured, met = closed[f"{tier}_measured"], closed[f"{tier}_met"]
        compliance.append({"tier": tier, "target": targets[tier], "closed": measured, "met": met,
                           "breached": measured - met, "compliance_pct": _rate(met, measured)})
    decided = closed["approved"] + closed["rejected"]
    summary = {
        "opened": opened["opened"],
        "closed": closed["closed"],
        "approved": closed["approved"],
        "rejected": closed["rejected"],
        "withdrawn": closed["withdrawn"],
        "automated": closed["automated"],
        "approval_rate_pct": _rate(closed["approved"], decided),
        "breached_open": risk["breached"],
        "at_risk_open": risk["at_risk"],
        "paused_open": risk["paused"],
        # Open clocks whose due time was computed through a year with no confirmed calendar.
        "calendar_unconfirmed_open": risk["calendar_unconfirmed"],
        "first_review_p50_h": _hours(opened["first_review_p50"]),
        "first_review_p90_h": _hours(opened["first_review_p90"]),
        "decision_p50_h": _hours(closed["decision_p50"]),
        "decision_p90_h": _hours(closed["decision_p90"]),
    }
    return {
        "filters": f.as_query(),
        "generated_at": now,
        "summary": summary,
        "compliance": compliance,
        "breached": [_case_row(r, now) for r in breached_rows],
        "at_risk": [_case_row(r, now) for r in at_risk_rows],
        "reviewers": reviewer_rows,
        "trend": trend,
        "surges": surge_history(filters=f),
        "outcomes": _outcome_counts(outcome_rows),
    }


def _outcome_counts(rows: list[dict]) -> list[dict]:
    """Decisions per outcome code, most used first; a decision without a code (made before the
    catalogue existed) counts under code ''."""
    return [{"code": r["appeal__outcome_code"], "outcome": r["code_outcome"] or "", "label_en": r["label_en"] or "",
             "label_zh": r["label_zh"] or "", "count": r["n"]} for r in rows]


def _weekly(qs: QuerySet, column: str, tz) -> dict[date, int]:
    rows = qs.annotate(week=TruncWeek(column, tzinfo=tz)).values("week").annotate(n=Count("pk")).values_list("week", "n")
    return {timezone.localtime(week, tz).date(): n for week, n in rows if week is not None}


def _policy_targets() -> dict[str, str]:
    rows = {p.severity: (p.unit, p.amount) for p in SlaPolicy.objects.all()}
    out = {}
    for tier in Severity.values:
        unit, amount = rows.get(tier) or default_policy(tier)
        out[tier] = f"{amount} " + (_("working days") if unit == "working_days" else _("hours"))
    return out


def _case_row(row: dict, now: datetime) -> dict:
    return {
        "reference": row["appeal__reference"],
        "enterprise": row["appeal__enterprise__name"],
        "severity": row["severity"],
        "state": row["appeal__state"],
        "reviewer": row["appeal__second_reviewer__username"] or row["appeal__first_reviewer__username"] or "",
        "due_at": row["due_at"],
        "hours_left": round((row["due_at"] - now).total_seconds() / 3600.0, 1),
        "calendar_unconfirmed": row["calendar_unconfirmed"],
    }


def surge_history(*, filters: ReportFilters) -> list[dict] | None:
    """Surge alerts opened in the period, from whichever capability registered the history
    (appeals.surge); None when none did. Alerts are desk-wide: the other filters do not apply."""
    provider = plugins.alert_history()
    return None if provider is None else provider(start_at=filters.start_at, end_at=filters.end_at)


# --- tables for CSV export ------------------------------------------------------------------

TABLES = ("summary", "compliance", "breached", "at_risk", "reviewers", "trend", "surges", "outcomes")


def report_table(report: dict, name: str) -> tuple[list[str], list[list]]:
    """(header, rows) of one report table, for CSV."""
    if name == "summary":
        return ["figure", "value"], [[k, v] for k, v in report["summary"].items()]
    if name == "compliance":
        cols = ["tier", "target", "closed", "met", "breached", "compliance_pct"]
    elif name in ("breached", "at_risk"):
        cols = ["reference", "enterprise", "severity", "state", "reviewer", "due_at", "hours_left", "calendar_unconfirmed"]
    elif name == "reviewers":
        cols = ["reviewer", "first_done", "second_done", "throughput", "first_open", "second_open", "open_load"]
    elif name == "trend":
        cols = ["week", "opened", "closed"]
    elif name == "surges":
        cols = ["opened_at", "slice", "window_minutes", "count", "usual", "state", "resolved_at"]
        return cols, [[row[c] for c in cols] for row in report["surges"] or []]
    elif name == "outcomes":
        cols = ["code", "outcome", "label_en", "label_zh", "count"]
        return cols, [[row[c] for c in cols] for row in report.get("outcomes") or []]
    elif name in DASHBOARD_TABLES and name in report:  # the dashboard's series (dashboard_series)
        cols = DASHBOARD_COLUMNS[name]
    else:
        raise ValidationFailed(fields={"table": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(TABLES)}]})
    # .get: a snapshot computed before a column existed lacks it.
    return cols, [[row.get(c) for c in cols] for row in report[name]]


def _csv_cell(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or tab/CR) gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def report_csv(report: dict, name: str) -> str:
    """One table as CSV text with a UTF-8 BOM, so Excel opens Chinese text correctly."""
    import csv
    import io

    header, rows = report_table(report, name)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


# --- precomputed all-tenant reports ----------------------------------------------------------


def snapshot_key(filters: ReportFilters, today: date | None = None) -> str | None:
    """The snapshot that answers these filters, if any: no tenant/slice filter, a standard
    period ending today."""
    today = today or timezone.localdate()
    if any((filters.enterprise, filters.platform, filters.kind, filters.severity, filters.reviewer)) or filters.end != today:
        return None
    days = (filters.end - filters.start).days + 1
    return f"all:{days}" if days in settings.APPEALS_SLA["SNAPSHOT_PERIODS_DAYS"] else None


def _jsonable(report: dict) -> dict:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(report, cls=DjangoJSONEncoder))


def report_from_json(payload: dict) -> dict:
    """Turn a stored report back into the shapes the page and the CSV use (dates, datetimes)."""
    from django.utils.dateparse import parse_datetime

    report = dict(payload)
    report["generated_at"] = parse_datetime(payload["generated_at"])
    report["trend"] = [{**w, "week": date.fromisoformat(w["week"])} for w in payload["trend"]]
    for name in ("breached", "at_risk"):
        report[name] = [{**r, "due_at": parse_datetime(r["due_at"])} for r in payload[name]]
    if payload.get("surges") is not None:
        report["surges"] = [{**s, "opened_at": parse_datetime(s["opened_at"]),
                             "resolved_at": s["resolved_at"] and parse_datetime(s["resolved_at"])} for s in payload["surges"]]
    return report


def report_snapshots_refresh(*, now: datetime | None = None) -> list[str]:
    """Recompute every standard all-tenant report (the beat task calls this)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    system = User(is_superuser=True)  # the task acts for the desk; reports only read
    done = []
    for days in settings.APPEALS_SLA["SNAPSHOT_PERIODS_DAYS"]:
        filters = ReportFilters(start=today - timedelta(days=days - 1), end=today)
        started = timezone.now()
        report = sla_report(user=system, filters=filters, now=now)
        duration = int((timezone.now() - started).total_seconds() * 1000)
        ReportSnapshot.objects.update_or_create(
            key=f"all:{days}", defaults={"payload": _jsonable(report), "computed_at": now, "duration_ms": duration}
        )
        done.append(f"all:{days}")
    return done


def sla_report_for_view(*, user, filters: ReportFilters, live: bool = False) -> dict:
    """The report a page or the API shows: a fresh snapshot when one answers the filters, else live.
    Adds `source` ("snapshot" or "live") and `generated_at` (its freshness)."""
    require(user.has_role(Role.MANAGER))
    key = None if live else snapshot_key(filters)
    snapshot = ReportSnapshot.objects.filter(key=key).first() if key else None
    if snapshot is not None:
        return {**report_from_json(snapshot.payload), "source": "snapshot"}
    return {**sla_report(user=user, filters=filters), "source": "live"}


# --- the manager's dashboard: series over time ------------------------------------------------

BACKLOG_BUCKETS = (  # (key, lower bound in days, upper bound in days or None)
    ("lt_1d", 0, 1), ("1_3d", 1, 3), ("3_7d", 3, 7), ("7_14d", 7, 14), ("ge_14d", 14, None),
)
OPEN_STATES = [AppealState.SUBMITTED.value, AppealState.FIRST_REVIEW.value, AppealState.SECOND_REVIEW.value,
               AppealState.NEEDS_INFO.value, AppealState.ESCALATED.value]
DASHBOARD_TABLES = ("compliance_weekly", "decision_weekly", "backlog", "breaches_weekly")


def _weeks(f: ReportFilters) -> list[date]:
    out, week = [], f.start - timedelta(days=f.start.weekday())
    while week <= f.end:
        out.append(week)
        week += timedelta(days=7)
    return out


def _week_of(value, tz) -> date:
    return timezone.localtime(value, tz).date()


def dashboard_series(*, user, filters: ReportFilters, now: datetime | None = None) -> dict:
    """The dashboard's figures over time, each computed by the database, weeks starting Monday
    (Asia/Shanghai), with the report's filters:

    - compliance_weekly: decisions closed each week per tier, how many within target, the rate;
    - decision_weekly: median and p90 hours from submission to decision, per week of decision;
    - backlog: open cases now by state and age since submission (buckets in BACKLOG_BUCKETS);
    - breaches_weekly: per week, clocks that breached (week of the due time: closed late, or
      still open past it) and near-breaches (passed the warning point that week, not breached).
    Reviewer load is the report's `reviewers` table.
    """
    require(user.has_role(Role.MANAGER))
    now = now or timezone.now()
    f = filters
    tz = timezone.get_current_timezone()
    scoped = _scoped(f)
    weeks = _weeks(f)
    in_period = Q(closed_at__gte=f.start_at, closed_at__lt=f.end_at)

    # Compliance per tier per week (decisions only, as in the report's compliance table).
    decided = scoped.filter(in_period, outcome__in=DECIDED)
    rows = (decided.filter(met__isnull=False).annotate(week=TruncWeek("closed_at", tzinfo=tz))
            .values("week", "severity").annotate(n=Count("pk"), met_n=Count("pk", filter=Q(met=True))))
    found = {(_week_of(r["week"], tz), r["severity"]): (r["n"], r["met_n"]) for r in rows}
    compliance_weekly = []
    for week in weeks:
        for tier in Severity.values:
            n, met = found.get((week, tier), (0, 0))
            compliance_weekly.append({"week": week, "tier": tier, "decided": n, "met": met, "compliance_pct": _rate(met, n)})

    # Median and p90 time to decision per week of decision.
    to_decision = Seconds(F("closed_at"), F("submitted_at"))
    by_week = decided.annotate(week=TruncWeek("closed_at", tzinfo=tz)).values("week")
    if connection.vendor == "postgresql":
        rows = by_week.annotate(n=Count("pk"), p50=PercentileCont(to_decision, 0.5), p90=PercentileCont(to_decision, 0.9))
        found = {_week_of(r["week"], tz): (r["n"], r["p50"], r["p90"]) for r in rows}
    else:
        found = {}
        for r in by_week.annotate(n=Count("pk")):
            week = _week_of(r["week"], tz)
            start = timezone.make_aware(datetime.combine(week, time.min))
            p = _percentiles(decided.filter(closed_at__gte=start, closed_at__lt=start + timedelta(days=7)), to_decision)
            found[week] = (r["n"], p[0.5], p[0.9])
    decision_weekly = []
    for week in weeks:
        n, p50, p90 = found.get(week, (0, None, None))
        decision_weekly.append({"week": week, "decided": n, "p50_h": _hours(p50), "p90_h": _hours(p90)})

    # Backlog now: open cases by state and age.
    open_cases = scoped.filter(closed_at__isnull=True, state__in=OPEN_STATES)
    aggs = {}
    for key, lo, hi in BACKLOG_BUCKETS:
        cond = Q(submitted_at__lte=now - timedelta(days=lo))
        if hi is not None:
            cond &= Q(submitted_at__gt=now - timedelta(days=hi))
        aggs[key] = Count("pk", filter=cond)
    counts = {r["state"]: r for r in open_cases.values("state").annotate(**aggs)}
    backlog = []
    for state in OPEN_STATES:
        row = counts.get(state, {})
        entry = {"state": state, **{key: row.get(key, 0) for key, _lo, _hi in BACKLOG_BUCKETS}}
        entry["total"] = sum(entry[key] for key, _lo, _hi in BACKLOG_BUCKETS)
        backlog.append(entry)

    # Breaches and near-breaches per week.
    not_withdrawn = scoped.exclude(outcome=AppealState.WITHDRAWN)
    breached = Q(met=False) | Q(closed_at__isnull=True, running_since__isnull=False, due_at__lte=now)
    breach_rows = (not_withdrawn.filter(breached, due_at__gte=f.start_at, due_at__lt=f.end_at)
                   .annotate(week=TruncWeek("due_at", tzinfo=tz)).values("week").annotate(n=Count("pk")))
    near = (Q(warn_at__lte=now) & ~breached & (Q(closed_at__isnull=True) | Q(closed_at__gte=F("warn_at")))
            & (Q(met=True) | Q(closed_at__isnull=True)))
    near_rows = (not_withdrawn.filter(near, warn_at__gte=f.start_at, warn_at__lt=f.end_at)
                 .annotate(week=TruncWeek("warn_at", tzinfo=tz)).values("week").annotate(n=Count("pk")))
    breaches = {_week_of(r["week"], tz): r["n"] for r in breach_rows}
    nears = {_week_of(r["week"], tz): r["n"] for r in near_rows}
    breaches_weekly = [{"week": w, "breaches": breaches.get(w, 0), "near_breaches": nears.get(w, 0)} for w in weeks]

    return {
        "compliance_weekly": compliance_weekly,
        "decision_weekly": decision_weekly,
        "backlog": backlog,
        "breaches_weekly": breaches_weekly,
    }


DASHBOARD_COLUMNS = {
    "compliance_weekly": ["week", "tier", "decided", "met", "compliance_pct"],
    "decision_weekly": ["week", "decided", "p50_h", "p90_h"],
    "backlog": ["state", *[key for key, _lo, _hi in BACKLOG_BUCKETS], "total"],
    "breaches_weekly": ["week", "breaches", "near_breaches"],
}
