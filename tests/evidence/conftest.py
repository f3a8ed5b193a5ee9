"""Fixtures for the evidence suite: the completeness guard on, and a complete set of files."""

import pytest

from appeals.evidence import services as evidence_services
from tests.evidence import files


@pytest.fixture(autouse=True)
def enforce_completeness(settings):
    settings.EVIDENCE = {**settings.EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": True}


def attach_required_evidence(appeal, by):
    """Upload one valid file for every kind the appeal needs (see EVIDENCE_REQUIRED)."""
    items = []
    for kind in evidence_services.evidence_required_kinds(appeal):
        if kind == "operation_log":
            f = files.upload("log.csv", files.log_csv(["2026-11-20 10:00:00,wx-1,master,login,,hello,10.0.0.1,dev-1"]).encode())
        elif kind in ("business_license", "authorization_letter"):
            f = files.upload(f"{kind}.pdf", files.pdf_bytes())
        else:
            f = files.upload(f"{kind}.png", files.image_bytes("PNG"))
        items.append(evidence_services.evidence_upload(appeal=appeal, by=by, kind=kind, file=f))
    return items


@pytest.fixture
def complete_draft(draft_appeal, enterprise_admin):
    attach_required_evidence(draft_appeal, enterprise_admin)
    return draft_appeal
