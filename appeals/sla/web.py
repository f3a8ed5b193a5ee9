"""Manager report pages: the SLA report with filters, an inline-SVG weekly chart and CSV links."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from appeals.core.models import Enterprise, IncidentKind, Platform, Role, Severity
from appeals.core.selectors import reviewers
from appeals.shared.exceptions import PermissionDenied, ValidationFailed
from appeals.sla.api import csv_response, view_report
from appeals.sla.reports import TABLES


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
        for j, (key, cls) in enumerate((("opened", "opened"), ("closed", "closed"))):
            h = plot * w[key] / peak
            bars.append((cls, round(x + j * (bar + 1), 1), round(10 + plot - h, 1), round(bar, 1), round(h, 1), key, w["week"], w[key]))
    rects = format_html_join(
        "", '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>', bars
    )
    labels = format_html_join(
        "", '<text x="{}" y="{}" font-size="10">{}</text>',
        ((round(30 + i * slot, 1), height - 5, w["week"].strftime("%m-%d")) for i, w in enumerate(trend) if i % max(1, len(trend) // 8) == 0),
    )
    return format_html(
        '<svg class="trend" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" height="{}">'
        '<style>.opened{{fill:#3b6fb6}}.closed{{fill:#9bbf5a}}</style>'
        '<text x="0" y="10" font-size="10">{}</text>{}{}</svg>',
        _("Cases opened and closed per week"), width, height, height, peak, rects, labels,
    )


@login_required
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
        report = view_report(request, request.GET)
        context.update(report=report, query=request.GET.urlencode(), chart=trend_svg(report["trend"]))
    except ValidationFailed as exc:
        context["errors"] = exc.fields
        status = 400
    return render(request, "appeals/reports/sla.html", context, status=status)


@login_required
def sla_report_csv(request, table: str):
    _require_manager(request)
    try:
        if table not in TABLES:
            raise ValidationFailed(fields={"table": [_("Unknown table.")]})
        report = view_report(request, request.GET)
    except ValidationFailed as exc:
        return render(request, "appeals/reports/sla.html", {"errors": exc.fields, "params": request.GET}, status=400)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    return csv_response(report, table)


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
    path("manager/reports/sla/", sla_report_page, name="sla-report"),
    path("manager/reports/time-to-recovery.csv", time_to_recovery_csv, name="time-to-recovery-csv"),
    path("manager/reports/sla/<str:table>.csv", sla_report_csv, name="sla-report-csv"),
]
