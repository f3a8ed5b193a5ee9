"""Audit completeness: one query returns a case's whole trail (target_id is the reference for
every appeal event), and report reads, CSV exports and case-bundle downloads are audit events."""

import pytest

from appeals.models import AuditEvent

pytestmark = pytest.mark.django_db


def trail(reference):
    return list(AuditEvent.objects.filter(target_type="appeals.appeal", target_id=reference)
                .order_by("position").values_list("action", flat=True))


def test_one_query_returns_the_case_trail(api_as, submitted_appeal, first_reviewer):
    reference = submitted_appeal.reference
    assert api_as(first_reviewer).post(f"/api/v1/appeals/{reference}/claim/").status_code == 200
    response = api_as(first_reviewer).get(f"/api/v1/appeals/{reference}/bundle/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    actions = trail(reference)
    assert actions[0] == "appeal.create"
    assert {"appeal.submit", "appeal.accept", "appeal.bundle_download"} <= set(actions), actions
    # Nothing about this appeal is filed under its primary key instead.
    assert not AuditEvent.objects.filter(target_type="appeals.appeal", target_id=str(submitted_appeal.pk)).exists()
    download = AuditEvent.objects.get(action="appeal.bundle_download", target_id=reference)
    assert download.actor == first_reviewer and download.enterprise_id == submitted_appeal.enterprise_id


def test_report_reads_and_csv_exports_are_audited(api_as, manager):
    client = api_as(manager)
    period = "start=2026-03-02&end=2026-03-15"
    assert client.get(f"/api/v1/reports/sla/?{period}").status_code == 200
    assert client.get(f"/api/v1/reports/sla/breached.csv?{period}").status_code == 200
    view = AuditEvent.objects.get(action="report.sla_view")
    export = AuditEvent.objects.get(action="report.sla_export")
    assert view.actor == manager and export.actor == manager
    assert export.target_id == "breached" and export.after["filters"] == {"start": "2026-03-02", "end": "2026-03-15"}


def test_report_page_and_csv_download_on_the_site_are_audited(client, manager):
    client.force_login(manager)
    period = "start=2026-03-02&end=2026-03-15"
    assert client.get(f"/manager/reports/sla/?{period}").status_code == 200
    assert client.get(f"/manager/reports/sla/reviewers.csv?{period}").status_code == 200
    assert list(AuditEvent.objects.filter(action__startswith="report.").values_list("action", "target_id")) == [
        ("report.sla_view", "report"), ("report.sla_export", "reviewers")]
