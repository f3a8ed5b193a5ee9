"""Surge pages for the desk: alert history, one alert with a chart of the volume around it,
acknowledge/resolve, and the managers' settings form. Mounted at the site root."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from appeals.core.models import Role
from appeals.shared.exceptions import DomainError, NotFound, ValidationFailed
from appeals.surge import services as surge_services
from appeals.surge.models import SurgeState
from appeals.surge.selectors import (
    VolumeSeries,
    surge_alert_get,
    surge_alert_messages,
    surge_alerts_for,
    surge_volume,
    with_slice_labels,
)


def _desk_only(request):
    if not request.user.is_desk:
        raise PermissionDenied


def _get_alert(request, pk):
    try:
        return surge_alert_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def volume_svg(series: VolumeSeries, *, opened_at, resolved_at=None, width: int = 720, height: int = 220) -> str:
    """The volume around an alert as an inline SVG bar chart, drawn on the server (no script, no CDN)."""
    left, right, top, bottom = 40, 10, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = [n for _t, n in series.points]
    peak = max([*counts, series.threshold_per_bucket, 1])
    n = max(1, len(counts))
    bar_w = plot_w / n

    def y(value):
        return top + plot_h - plot_h * value / peak

    def x_at(moment):
        span = (series.points[-1][0] - series.points[0][0]).total_seconds() + series.bucket_minutes * 60 if counts else 1
        return left + plot_w * (moment - series.points[0][0]).total_seconds() / span

    # Outside the f-string, where makemessages finds it.
    label = _("Appeals per %(n)s min") % {"n": series.bucket_minutes}
    parts = [
        f'<svg class="surge-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11">{peak:g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, (moment, count) in enumerate(series.points):
        if count:
            parts.append(
                f'<rect class="bar" x="{left + i * bar_w:.1f}" y="{y(count):.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{top + plot_h - y(count):.1f}" fill="#4a6fa5"><title>'
                f'{escape(timezone.localtime(moment).strftime("%m-%d %H:%M"))}: {count}</title></rect>'
            )
    for value, colour, label in (
        (series.threshold_per_bucket, "#c0392b", _("threshold")),
        (series.usual_per_bucket, "#27ae60", _("usual")),
    ):
        parts.append(
            f'<line class="{escape(label)}" x1="{left}" y1="{y(value):.1f}" x2="{width - right}" y2="{y(value):.1f}" '
            f'stroke="{colour}" stroke-dasharray="4 3"><title>{escape(label)}: {value:.1f}</title></line>'
        )
    if counts:
        for moment, colour, label in ((opened_at, "#c0392b", _("opened")), (resolved_at, "#27ae60", _("resolved"))):
            if moment is None:
                continue
            x = x_at(moment)
            if left <= x <= width - right:
                parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{colour}"/>')
                parts.append(f'<text x="{x + 3:.1f}" y="{top + 10}" font-size="11" fill="{colour}">{escape(label)}</text>')
        for i in (0, len(series.points) // 2, len(series.points) - 1):
            moment = series.points[i][0]
            parts.append(
                f'<text x="{left + i * bar_w:.1f}" y="{height - 10}" font-size="11">'
                f'{escape(timezone.localtime(moment).strftime("%m-%d %H:%M"))}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text above is escaped; the rest are numbers


@login_required
def surge_list(request):
    _desk_only(request)
    alerts = surge_alerts_for(request.user)
    state = request.GET.get("state")
    if state in SurgeState.values:
        alerts = alerts.filter(state=state)
    page = Paginator(alerts, 25).get_page(request.GET.get("page"))
    page.object_list = with_slice_labels(page.object_list)
    return render(request, "appeals/surge/list.html", {"page": page, "state": state, "states": SurgeState.choices})


@login_required
def surge_detail(request, pk):
    _desk_only(request)
    alert = _get_alert(request, pk)
    series = surge_volume(alert=alert)
    return render(
        request,
        "appeals/surge/detail.html",
        {
            "alert": alert,
            "chart": volume_svg(series, opened_at=alert.opened_at, resolved_at=alert.resolved_at),
            "series": series,
            "notifications": surge_alert_messages(alert),
            "can_act": request.user.has_role(Role.MANAGER),
        },
    )


def _alert_verb(service, done_message):
    @login_required
    @require_POST
    def view(request, pk):
        _desk_only(request)
        alert = _get_alert(request, pk)
        try:
            service(alert=alert, by=request.user, comment=request.POST.get("comment", "")[:2000])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done_message)
        return redirect("surge-detail", pk=alert.pk)

    return view


surge_acknowledge = _alert_verb(surge_services.surge_alert_acknowledge, gettext_lazy("Alert acknowledged."))
surge_resolve = _alert_verb(surge_services.surge_alert_resolve, gettext_lazy("Alert resolved."))


class SurgeSettingsForm(forms.Form):
    window_minutes = forms.IntegerField(label=gettext_lazy("Window (minutes)"), min_value=1, max_value=720)
    floor = forms.IntegerField(label=gettext_lazy("Floor (appeals per window)"), min_value=1)
    factor = forms.FloatField(label=gettext_lazy("Factor over the usual level"), min_value=1.0, max_value=100.0)
    history_days = forms.IntegerField(label=gettext_lazy("History (days)"), min_value=1, max_value=28)
    quiet_windows = forms.IntegerField(label=gettext_lazy("Quiet windows before auto-resolve"), min_value=1, max_value=48)
    hotline = forms.CharField(label=gettext_lazy("Emergency hotline"), max_length=40)


@login_required
def surge_settings(request):
    if not request.user.has_role(Role.MANAGER):
        raise PermissionDenied
    policy = surge_services.surge_policy()
    if request.method == "POST":
        form = SurgeSettingsForm(request.POST)
        if form.is_valid():
            try:
                surge_services.surge_settings_update(by=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Surge settings saved."))
                return redirect("surge-settings")
    else:
        form = SurgeSettingsForm(initial={f: getattr(policy, f) for f in surge_services.POLICY_FIELDS})
    return render(request, "appeals/surge/settings.html", {"form": form, "policy": policy})


urlpatterns = [
    path("surge/", surge_list, name="surge-list"),
    path("surge/settings/", surge_settings, name="surge-settings"),
    path("surge/<int:pk>/", surge_detail, name="surge-detail"),
    path("surge/<int:pk>/acknowledge/", surge_acknowledge, name="surge-acknowledge"),
    path("surge/<int:pk>/resolve/", surge_resolve, name="surge-resolve"),
]
