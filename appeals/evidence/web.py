"""The evidence panel on the case page: checklist, files with thumbnails and hashes, risk flags, upload."""

from django.template.loader import render_to_string
from django.urls import reverse

from appeals.evidence.models import EvidenceKind
from appeals.evidence.selectors import evidence_list, risk_flags
from appeals.evidence.services import ADDABLE_STATES, evidence_checklist
from appeals.shared.masking import mask_id_numbers

FLAG_LINES_SHOWN = 25


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
        "checklist": checklist,
        "complete": all(e.satisfied for e in checklist),
        "can_upload": can_upload,
        "kinds": EvidenceKind.choices,
        "upload_url": reverse("api-evidence-list", kwargs={"reference": appeal.reference}),
        "bundle_url": reverse("api-appeal-bundle", kwargs={"reference": appeal.reference}),
    }, request=request)

