"""The evidence panel on the case page: checklist, files with thumbnails and hashes, risk flags,
upload; the anomaly panel (flagged hours with what drove them); the operation-log CSV template;
the evidence step of the case page's filing path."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from appeals.core.models import AccountType
from appeals.core.stepper import StepStatus
from appeals.evidence.anomaly import FEATURE_LABELS
from appeals.evidence.models import AnalysisStatus, EvidenceKind, LogAnalysis, RiskRule
from appeals.evidence.selectors import anomaly_hours, evidence_list, health_flags, log_health, risk_flags
from appeals.evidence.services import ADDABLE_STATES, evidence_checklist, evidence_missing
from appeals.shared import charts
from appeals.shared.masking import mask_id_numbers

FLAG_LINES_SHOWN = 25
ACCOUNT_TYPE_LABELS = dict(AccountType.choices)

# The operation-log layout (docs/evidence.md), explained beside the upload area and served as a template.
LOG_COLUMNS = (
    ("time", _("Local time (Asia/Shanghai), YYYY-MM-DD HH:MM:SS.")),
    ("operator", _("The account that acted (its WeCom user id).")),
    ("account_type", _("master, operations, customer_service or developer.")),
    ("action", _("add_friend, send_message, mass_message, manage_accounts, create_account, delete_account, api_call, export_data; others such as login need no permission. For account health also: friend_request_sent (add_friend counts as one), friend_request_accepted, message_sent (send_message counts as one), message_replied, deleted_by_customer, blocked_by_customer, complaint (what the customer in target did).")),
    ("target", _("Who or what the action was aimed at (may be empty).")),
    ("message", _("The message text, for send_message and mass_message (may be empty).")),
    ("ip", _("The IP address the action came from.")),
    ("device_id", _("The device identifier.")),
)
LOG_TEMPLATE_ROWS = (
    ("2026-11-20 10:15:30", "wx-sales-01", "operations", "add_friend", "wxid_abc", "你好", "10.0.0.8", "dev-a1"),
    ("2026-11-20 10:16:02", "wx-sales-01", "operations", "send_message", "wxid_abc", "欢迎咨询", "10.0.0.8", "dev-a1"),
    ("2026-11-20 10:20:11", "wx-sales-01", "operations", "friend_request_accepted", "wxid_abc", "", "10.0.0.8", "dev-a1"),
    ("2026-11-20 10:25:40", "wx-sales-01", "operations", "message_replied", "wxid_abc", "", "10.0.0.8", "dev-a1"),
    ("2026-11-20 11:02:03", "wx-sales-01", "operations", "friend_request_sent", "wxid_def", "", "10.0.0.8", "dev-a1"),
    ("2026-11-20 14:30:00", "wx-sales-01", "operations", "deleted_by_customer", "wxid_ghi", "", "10.0.0.8", "dev-a1"),
    ("2026-11-20 15:00:00", "wx-sales-01", "operations", "blocked_by_customer", "wxid_jkl", "", "10.0.0.8", "dev-a1"),
    ("2026-11-20 16:45:12", "wx-sales-01", "operations", "complaint", "wxid_jkl", "", "10.0.0.8", "dev-a1"),
)


def slot_id(kind: str) -> str:
    return f"slot-{kind}"


def evidence_step_status(appeal) -> StepStatus:
    """The filing path's evidence step: done when every required kind is there; else each missing one, linked to its slot."""
    missing = evidence_missing(appeal)
    return StepStatus(done=not missing, todo=[{"text": e.label, "href": "#" + slot_id(e.kind)} for e in missing])


@login_required
def log_template(request):
    """The operation-log CSV layout as a file to fill in: UTF-8 with BOM (Excel opens Chinese text correctly)."""
    import csv
    import io

    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([name for name, _help in LOG_COLUMNS])
    writer.writerows(LOG_TEMPLATE_ROWS)
    response = HttpResponse(buf.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="operation-log-template.csv"'
    return response


def render_evidence_panel(request, appeal) -> str | None:
    """The case page has already fetched `appeal` through the user's selector (tenancy)."""
    user = request.user
    items = list(evidence_list(appeal=appeal))
    rows = []
    for item in items:
        kwargs = {"reference": appeal.reference, "uuid": item.uuid}
        rows.append({
            "item": item,
            "name": mask_id_numbers(item.original_name),
            "download": reverse("api-evidence-download", kwargs=kwargs),
            "thumbnail": reverse("api-evidence-thumbnail", kwargs=kwargs) if item.thumbnail_name else "",
            "preview": reverse("api-evidence-preview", kwargs=kwargs) if item.preview_name else "",
            "analysis": getattr(item, "analysis", None) if item.kind == EvidenceKind.OPERATION_LOG else None,
        })
    flags = [
        {"flag": f, "lines": f.line_numbers[:FLAG_LINES_SHOWN], "more": max(0, len(f.line_numbers) - FLAG_LINES_SHOWN)}
        for f in risk_flags(appeal=appeal)
    ]
    checklist = evidence_checklist(appeal)
    can_upload = user.is_authenticated and user.enterprise_id == appeal.enterprise_id and appeal.state in ADDABLE_STATES
    return render_to_string("appeals/partials/evidence_panel.html", {
        "appeal": appeal,
        "rows": rows,
        "flags": flags,
        "checklist": [{"entry": e, "slot": slot_id(e.kind)} for e in checklist],
        "complete": all(e.satisfied for e in checklist),
        "log_columns": LOG_COLUMNS,
        "log_template_url": reverse("evidence-log-template"),
        "needs_log": any(e.kind == EvidenceKind.OPERATION_LOG for e in checklist),
        "can_upload": can_upload,
        "kinds": EvidenceKind.choices,
        "upload_url": reverse("api-evidence-list", kwargs={"reference": appeal.reference}),
        "bundle_url": reverse("api-appeal-bundle", kwargs={"reference": appeal.reference}),
    }, request=request)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def render_anomaly_panel(request, appeal) -> str | None:
    """Anomalous hours in the case's operation logs, for the reviewers and the applicant alike:
    each hour with the features that drove it ("friend adds 63, usually 4") and its log lines.
    Nothing until a log's detection has run."""
    analyses = list(LogAnalysis.objects.filter(evidence__appeal=appeal, status=AnalysisStatus.DONE,
                                               anomaly__isnull=False).select_related("evidence"))
    if not analyses:
        return None
    hours = []
    for row in anomaly_hours(appeal=appeal):
        hours.append({
            "row": row,
            "account_type": ACCOUNT_TYPE_LABELS.get(row.account_type, row.account_type),
            "drivers": [{"label": FEATURE_LABELS.get(d["feature"], d["feature"]), "value": _number(d["value"]),
                         "usual": _number(d["usual"]), "peers": _number(d["peers"]), "z": d["z"],
                         "seen": d.get("seen", [])} for d in row.drivers],
            "lines": row.line_numbers[:FLAG_LINES_SHOWN],
            "more": max(0, row.line_count - min(len(row.line_numbers), FLAG_LINES_SHOWN)),
            "download": reverse("api-evidence-download", kwargs={"reference": appeal.reference, "uuid": row.evidence.uuid}),
        })
    summaries = [{"name": mask_id_numbers(a.evidence.original_name) or a.evidence.extension, **a.anomaly} for a in analyses]
    return render_to_string("appeals/partials/anomaly_panel.html", {
        "appeal": appeal, "hours": hours, "summaries": summaries,
        "api_url": reverse("api-anomalies", kwargs={"reference": appeal.reference}),
    }, request=request)


# --- account health (appeals.evidence.health): a chart per account with the thresholds drawn ----

HEALTH_ACCOUNTS_CHARTED = 10  # per log: the flagged accounts first, then the busiest; every account is in the API
RATES = (  # metric, its threshold setting, which side is bad
    ("acceptance_rate", "ACCEPTANCE_RATE_MIN", _("acceptance")),
    ("reply_rate", "REPLY_RATE_MIN", _("reply")),
    ("delete_block_rate", "DELETE_BLOCK_RATE_MAX", _("delete/block")),
    ("complaint_rate", "COMPLAINT_RATE_MAX", _("complaints")),
)


def _pct(rate):
    return None if rate is None else round(rate * 100, 1)


def _rate_thresholds(thresholds: dict) -> list[tuple[str, float]]:
    """One dashed line per threshold value; rules sharing a value share the line."""
    by_value: dict[float, list[str]] = {}
    for _metric, key, name in RATES:
        if key in thresholds:
            sign = "≥" if key.endswith("_MIN") else "≤"
            by_value.setdefault(_pct(thresholds[key]), []).append(f"{name} {sign}")
    return [(" / ".join(names), value) for value, names in sorted(by_value.items())]


def _account_figure(account: dict, thresholds: dict, flagged: dict) -> dict:
    days = account["days"]
    labels = [d["day"][5:] for d in days]
    operator = account["operator"]
    rates_title = _("%(account)s: daily rates (%%)") % {"account": operator}
    first, last = days[0]["day"], days[-1]["day"]
    series = [(str(name), [_pct(d[metric]) for d in days]) for metric, _key, name in RATES]
    rates_chart = charts.line_chart(
        title=rates_title, labels=labels, series=series, unit="%", thresholds=_rate_thresholds(thresholds),
        desc=_("Acceptance, reply, delete/block and complaint rates of %(account)s per day from %(first)s to %(last)s; "
               "dashed lines are the thresholds; a gap is a day without enough data. The table holds the figures.")
        % {"account": operator, "first": first, "last": last},
    ) if any(v is not None for _n, vs in series for v in vs) else ""
    baseline = days[0].get("activity_baseline")
    factor = thresholds.get("ACTIVITY_SPIKE_FACTOR")
    spike = [(str(_("spike above")), round(baseline * factor, 1))] if baseline is not None and factor else []
    activity_title = _("%(account)s: actions per day") % {"account": operator}
    activity_chart = charts.bar_chart(
        title=activity_title, labels=labels, series=[(str(_("actions")), [d["activity"] for d in days])], thresholds=spike,
        desc=_("Actions logged by %(account)s per day from %(first)s to %(last)s; a dashed line marks the spike threshold "
               "(%(factor)s times the account's median day).") % {"account": operator, "first": first, "last": last,
                                                                   "factor": factor},
    )
    rows = [{"day": d, "rates": [_pct(d[m]) for m, _k, _n in RATES], "flags": flagged.get(d["day"], [])} for d in days]
    return {"operator": operator, "rates_chart": rates_chart, "activity_chart": activity_chart,
            "legend": charts.legend([s[0] for s in series]), "rows": rows,
            "flagged": any(r["flags"] for r in rows)}


def render_health_panel(request, appeal) -> str | None:
    """Account health of each analysed operation log; nothing while no log has been analysed."""
    analyses = [a for a in log_health(appeal=appeal) if a.status == AnalysisStatus.DONE and a.health.get("accounts")]
    if not analyses:
        return None
    labels = dict(RiskRule.choices)
    flags_by_log: dict[int, dict] = {}
    for f in health_flags(appeal=appeal):
        per_day = flags_by_log.setdefault(f.evidence_id, {}).setdefault(f.operator, {})
        per_day.setdefault(f.detail.get("day"), []).append(labels.get(f.rule, f.rule))
    logs = []
    for analysis in analyses:
        health = analysis.health
        flagged = flags_by_log.get(analysis.evidence_id, {})
        accounts = sorted(health["accounts"], key=lambda a: (a["operator"] not in flagged,
                                                             -sum(d["activity"] for d in a["days"]), a["operator"]))
        shown = accounts[:HEALTH_ACCOUNTS_CHARTED]
        logs.append({
            "analysis": analysis,
            "name": mask_id_numbers(analysis.evidence.original_name),
            "outcomes_recorded": health.get("outcomes_recorded"),
            "figures": [_account_figure(a, health.get("thresholds", {}), flagged.get(a["operator"], {})) for a in shown],
            "more": len(accounts) - len(shown),
        })
    return render_to_string("appeals/partials/health_panel.html", {
        "appeal": appeal, "logs": logs, "rate_names": [name for _m, _k, name in RATES],
        "api_url": reverse("api-evidence-health", kwargs={"reference": appeal.reference}),
    }, request=request)


urlpatterns = [
    path("evidence/operation-log-template.csv", log_template, name="evidence-log-template"),
]
