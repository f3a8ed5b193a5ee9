"""Manager report pages: the SLA report with filters, an inline-SVG weekly chart and CSV links."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.core.models import AppealState, Enterprise, IncidentKind, Platform, Role, Severity
from appeals.core.selectors import reviewers
from appeals.shared import charts
from appeals.shared.exceptions import PermissionDenied, ValidationFailed
from appeals.shared.replica import tolerates_lag
from appeals.sla.api import csv_response, view_report
from appeals.sla.calendar_years import calendar_years_overview
from appeals.sla.reports import BACKLOG_BUCKETS, DASHBOARD_TABLES, TABLES, dashboard_series, parse_filters
from appeals.sla.services import sla_report_accessed


def _require_manager(request):
    if not request.user.has_role(Role.MANAGER):
        raise DjangoPermissionDenied


def trend_svg(trend: list[dict], width: int = 640, height: int = 180) -> str:
    """Opened / closed per week as grouped bars, drawn server-side (no script, no CDN)."""
    if not trend:
        return ""
    peak = max(max(w["opened"], w["closed"]) for w in trend) or 1
    slot = (width - 40) / len(trend)
    bar = max(2.0, slot / 2 - 2)
    plot = height - 30
    bars = []
    for i, w in enumerate(trend):
        x = 30 + i * slot
        for j, (key, cls) in enumerate((("opened", "#3b6fb6"), ("closed", "#9bbf5a"))):
            h = plot * w[key] / peak
            bars.append((cls, round(x + j * (bar + 1), 1), round(10 + plot - h, 1), round(bar, 1), round(h, 1), key, w["week"], w[key]))
    rects = format_html_join(
        "", '<rect fill="{}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>', bars
    )
    labels = format_html_join(
        "", '<text x="{}" y="{}" font-size="10">{}</text>',
        ((round(30 + i * slot, 1), height - 5, w["week"].strftime("%m-%d")) for i, w in enumerate(trend) if i % max(1, len(trend) // 8) == 0),
    )
    return format_html(
        '<svg class="trend" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" height="{}">'
        '<text x="0" y="10" font-size="10">{}</text>{}{}</svg>',
        _("Cases opened and closed per week"), width, height, height, peak, rects, labels,
    )


BUCKET_LABELS = {
    "lt_1d": gettext_lazy("under 1 day"), "1_3d": gettext_lazy("1–3 days"), "3_7d": gettext_lazy("3–7 days"),
    "7_14d": gettext_lazy("7–14 days"), "ge_14d": gettext_lazy("14 days or more"),
}


BUCKET_AXIS = {"lt_1d": gettext_lazy("<1 d"), "1_3d": gettext_lazy("1–3 d"), "3_7d": gettext_lazy("3–7 d"), "7_14d": gettext_lazy("7–14 d"), "ge_14d": gettext_lazy("≥14 d")}


def dashboard_figures(report: dict, series: dict) -> list[dict]:
    """The dashboard's five figures: each a server-rendered SVG chart, its legend, the numbers
    behind it as a table (header, rows), and the CSV table that exports it."""
    weeks = [w["week"] for w in series["decision_weekly"]]
    week_labels = [w.strftime("%m-%d") for w in weeks]
    tiers = [(t, str(Severity(t).label)) for t in Severity.values]
    pct = {(r["week"], r["tier"]): r["compliance_pct"] for r in series["compliance_weekly"]}
    compliance_series = [(label, [pct[(w, t)] for w in weeks]) for t, label in tiers]
    decision = series["decision_weekly"]
    decision_series = [(_("median"), [r["p50_h"] for r in decision]), ("p90", [r["p90_h"] for r in decision])]
    states = [(r["state"], str(AppealState(r["state"]).label)) for r in series["backlog"]]
    bucket_keys = [key for key, _lo, _hi in BACKLOG_BUCKETS]
    backlog_series = [(label, [row[k] for k in bucket_keys]) for (_s, label), row in zip(states, series["backlog"], strict=True)]
    breaches = series["breaches_weekly"]
    breach_series = [(_("breaches"), [r["breaches"] for r in breaches]), (_("near-breaches"), [r["near_breaches"] for r in breaches])]
    reviewers = report["reviewers"]
    load_series = [(_("open now"), [r["open_load"] for r in reviewers]), (_("decided in period"), [r["throughput"] for r in reviewers])]
    fig = []

    def add(key, title, chart, names, header, rows, table):
        fig.append({"key": key, "title": title, "chart": chart, "legend": charts.legend(names), "header": header, "rows": rows, "table": table})

    title = _("Compliance per tier, by week of decision")
    add("compliance", title, charts.line_chart(title=title, labels=week_labels, series=compliance_series, unit="%", peak=100),
        [label for _t, label in tiers], [_("Week"), *[label for _t, label in tiers]],
        [[lbl, *["–" if v is None else f"{v}%" for v in vals]] for lbl, vals in zip(week_labels, zip(*[v for _n, v in compliance_series], strict=True), strict=True)],
        "compliance_weekly")
    title = _("Time to decision (hours), median and p90, by week")
    add("decision", title, charts.line_chart(title=title, labels=week_labels, series=decision_series, unit="h"),
        [n for n, _v in decision_series], [_("Week"), _("Decisions"), _("median"), "p90"],
        [[lbl, r["decided"], r["p50_h"] if r["p50_h"] is not None else "–", r["p90_h"] if r["p90_h"] is not None else "–"] for lbl, r in zip(week_labels, decision, strict=True)],
        "decision_weekly")
    title = _("Open cases now, by age and state")
    bucket_labels = [str(BUCKET_LABELS[k]) for k in bucket_keys]
    axis = [str(BUCKET_AXIS[k]) for k in bucket_keys]  # short, so five fit under a phone-wide chart
    add("backlog", title, charts.bar_chart(title=title, labels=axis, series=backlog_series, stacked=True),
        [label for _s, label in states], [_("State"), *bucket_labels, _("Total")],
        [[label, *[row[k] for k in bucket_keys], row["total"]] for (_s, label), row in zip(states, series["backlog"], strict=True)],
        "backlog")
    title = _("Breaches and near-breaches per week")
    add("breaches", title, charts.bar_chart(title=title, labels=week_labels, series=breach_series),
        [n for n, _v in breach_series], [_("Week"), _("breaches"), _("near-breaches")],
        [[lbl, r["breaches"], r["near_breaches"]] for lbl, r in zip(week_labels, breaches, strict=True)],
        "breaches_weekly")
    title = _("Reviewer load")
    names = [r["reviewer"] for r in reviewers]
    add("load", title, charts.bar_chart(title=title, labels=names, series=load_series),
        [n for n, _v in load_series], [_("Reviewer"), _("open now"), _("decided in period")],
        [[r["reviewer"], r["open_load"], r["throughput"]] for r in reviewers], "reviewers")
    return fig


def _with_series(request, report: dict) -> dict:
    return {**report, **dashboard_series(user=request.user, filters=parse_filters(request.GET))}


@login_required
@tolerates_lag  # a report: may read the replica
def sla_report_page(request):
    _require_manager(request)
    context = {
        "tables": TABLES,
        "enterprises": Enterprise.objects.order_by("name").values_list("pk", "name"),
        "reviewer_choices": (reviewers(role_field="is_first_reviewer") | reviewers(role_field="is_second_reviewer")).distinct(),
        "platforms": Platform.choices,
        "kinds": IncidentKind.choices,
        "severities": Severity.choices,
        "params": request.GET,
        "snapshot_minutes": round(settings.BEAT_INTERVALS["sla-report-snapshots"] / 60),
    }
    status = 200
    try:
        report = _with_series(request, view_report(request, request.GET))
        sla_report_accessed(by=request.user, report=report)
        context.update(report=report, query=request.GET.urlencode(), chart=trend_svg(report["trend"]),
                       figures=dashboard_figures(report, report))
    except ValidationFailed as exc:
        context["errors"] = exc.fields
        status = 400
    return render(request, "appeals/reports/sla.html", context, status=status)


@login_required
@tolerates_lag  # an export: may read the replica
def sla_report_csv(request, table: str):
    _require_manager(request)
    try:
        if table not in TABLES and table not in DASHBOARD_TABLES:
            raise ValidationFailed(fields={"table": [_("Unknown table.")]})
        report = view_report(request, request.GET)
        if table in DASHBOARD_TABLES:
            report = _with_series(request, report)
    except ValidationFailed as exc:
        return render(request, "appeals/reports/sla.html", {"errors": exc.fields, "params": request.GET}, status=400)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    return csv_response(report, table, by=request.user)


@login_required
def sla_calendar_page(request):
    """Which years' working-day calendars are confirmed (official schedule loaded) and which are
    the Monday-to-Friday rule plus an estimate."""
    _require_manager(request)
    return render(request, "appeals/calendar_years.html", {"years": calendar_years_overview()})


@login_required
def time_to_recovery_csv(request):
    """The dashboard's time-to-recovery rows as CSV (tenant-scoped like the API)."""
    from appeals.sla import recovery
    from appeals.sla.api import recovery_csv_response

    try:
        filters = recovery.recovery_filters(user=request.user, params=request.GET)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except ValidationFailed as exc:
        from django.http import HttpResponseBadRequest

        return HttpResponseBadRequest("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items()),
                                      content_type="text/plain; charset=utf-8")
    return recovery_csv_response(recovery.time_to_recovery(user=request.user, filters=filters))


urlpatterns = [
    path("manager/calendar/", sla_calendar_page, name="sla-calendar"),
    path("manager/reports/sla/", sla_report_page, name="sla-report"),
    path("manager/reports/time-to-recovery.csv", time_to_recovery_csv, name="time-to-recovery-csv"),
    path("manager/reports/sla/<str:table>.csv", sla_report_csv, name="sla-report-csv"),
]
