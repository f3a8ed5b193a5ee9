"""verify_evidence re-hashes the stored originals and names every mismatch and missing file."""

import os
from io import StringIO

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from appeals.evidence import services as svc
from appeals.models import AuditEvent
from tests.evidence import files

pytestmark = pytest.mark.django_db


def _upload(appeal, by, n):
    return [svc.evidence_upload(appeal=appeal, by=by, kind="other", file=files.upload(f"{i}.png", files.image_bytes("PNG", color=(i, 0, 0))))
            for i in range(n)]


def test_intact_library_is_reported_intact(draft_appeal, enterprise_admin):
    _upload(draft_appeal, enterprise_admin, 3)
    out = StringIO()
    call_command("verify_evidence", stdout=out)
    assert "intact, 3 files verified" in out.getvalue()
    assert AuditEvent.objects.filter(action="evidence.verify").latest("position").after["checked"] == 3


def test_a_changed_file_and_a_missing_file_are_named(draft_appeal, enterprise_admin):
    good, altered, lost = _upload(draft_appeal, enterprise_admin, 3)
    storage = storages["evidence"]
    with open(storage.path(altered.storage_name), "r+b") as fp:  # bit rot / tampering behind our back
        fp.seek(30)
        fp.write(b"\x00\x01")
    os.remove(storage.path(lost.storage_name))
    out = StringIO()
    with pytest.raises(CommandError, match="2 of 3 evidence files failed verification"):
        call_command("verify_evidence", stdout=out)
    text = out.getvalue()
    assert f"MISMATCH {draft_appeal.reference} item {altered.pk}: {altered.storage_name}" in text
    assert f"MISSING  {draft_appeal.reference} item {lost.pk}" in text
    assert str(good.pk) + ":" not in text.replace(f"item {altered.pk}:", "").replace(f"item {lost.pk}:", "")


def test_one_appeal_only(draft_appeal, enterprise_admin):
    _upload(draft_appeal, enterprise_admin, 2)
    out = StringIO()
    call_command("verify_evidence", "--appeal", "AP-1999-000000", stdout=out)
    assert "intact, 0 files verified" in out.getvalue()


def test_postgresql_refuses_to_replace_an_original_or_delete_submitted_evidence(complete_draft, enterprise_admin):
    from django.db import DatabaseError, connection, transaction

    from appeals.core.services import appeals as appeal_services

    item = complete_draft.evidence.first()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE appeals_evidenceitem SET sha256 = %s WHERE id = %s", ["0" * 64, item.pk])
    appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    with pytest.raises(DatabaseError, match="submitted appeal"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM appeals_evidenceitem WHERE id = %s", [item.pk])
    # derived-copy bookkeeping may still change
    with connection.cursor() as cursor:
        cursor.execute("UPDATE appeals_evidenceitem SET derived_status = 'failed' WHERE id = %s", [item.pk])
