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
from appeals.evidence.models import AnalysisStatus, EvidenceKind, LogAnalysis
from appeals.evidence.selectors import anomaly_hours, evidence_list, risk_flags
from appeals.evidence.services import ADDABLE_STATES, evidence_checklist, evidence_missing
from appeals.shared.masking import mask_id_numbers

FLAG_LINES_SHOWN = 25
ACCOUNT_TYPE_LABELS = dict(AccountType.choices)

# The operation-log layout (docs/evidence.md), explained beside the upload area and served as a template.
LOG_COLUMNS = (
    ("time", _("Local time (Asia/Shanghai), YYYY-MM-DD HH:MM:SS.")),
    ("operator", _("The account that acted (its WeCom user id).")),
    ("account_type", _("master, operations, customer_service or developer.")),
    ("action", _("add_friend, send_message, mass_message, manage_accounts, create_account, delete_account, api_call, export_data; others such as login need no permission.")),
    ("target", _("Who or what the action was aimed at (may be empty).")),
    ("message", _("The message text, for send_message and mass_message (may be empty).")),
    ("ip", _("The IP address the action came from.")),
    ("device_id", _("The device identifier.")),
)
LOG_TEMPLATE_ROWS = (
    ("2026-11-20 10:15:30", "wx-sales-01", "operations", "add_friend", "wxid_abc", "你好", "10.0.0.8", "dev-a1"),
    ("2026-11-20 10:16:02", "wx-sales-01", "operations", "send_message", "wxid_abc", "欢迎咨询", "10.0.0.8", "dev-a1"),
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


urlpatterns = [
    path("evidence/operation-log-template.csv", log_template, name="evidence-log-template"),
]
