"""Uploading evidence: sniffed by content, decoded, hashed while streaming, stored by uuid."""

import hashlib
import re

import pytest
from django.core.files.storage import storages

from appeals.evidence import services as svc
from appeals.models import AuditEvent, EvidenceItem, LogAnalysis
from appeals.shared.exceptions import GuardFailed, PermissionDenied, ValidationFailed
from tests import builders
from tests.evidence import files

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "kind", "data", "code"),
    [pytest.param(*case, id=f"{case[3]}:{case[0]}") for case in files.bad_corpus()],
)
def test_bad_file_corpus_is_refused_with_its_reason(draft_appeal, enterprise_admin, name, kind, data, code):
    with pytest.raises(ValidationFailed) as err:
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind=kind, file=files.upload(name, data))
    assert err.value.code == code
    assert err.value.fields["file"] and err.value.fields["file"][0] == err.value.message
    assert not EvidenceItem.objects.exists()


def test_pillow_limit_is_lower_than_pillows_default(settings):
    pillow_default = 1024 * 1024 * 1024 // 4 // 3  # PIL.Image.MAX_IMAGE_PIXELS as shipped
    assert settings.EVIDENCE["MAX_IMAGE_PIXELS"] < pillow_default


@pytest.mark.parametrize(
    ("name", "kind", "data", "file_type", "ext"),
    [
        ("IMG_0001.JPG", "ban_notice", files.image_bytes("JPEG"), "jpeg", "jpg"),
        ("front.png", "admin_id_front", files.image_bytes("PNG"), "png", "png"),
        ("back.webp", "admin_id_back", files.image_bytes("WEBP"), "webp", "webp"),
        ("营业执照.pdf", "business_license", files.pdf_bytes(), "pdf", "pdf"),
        ("log.csv", "operation_log", files.log_csv(["2026-11-20 10:00:00,wx,master,login,,hi,1.1.1.1,d"]).encode("gbk"), "csv", "csv"),
        ("log.gz", "operation_log", __import__("gzip").compress(files.log_csv([]).encode()), "csv_gzip", "csv.gz"),
        # A PNG named .jpg is still a PNG: stored by what it is, not by its name.
        ("screenshot.jpg", "ban_notice", files.image_bytes("PNG"), "png", "png"),
    ],
)
def test_good_files_are_stored_unchanged_under_a_uuid_path(draft_appeal, enterprise_admin, name, kind, data, file_type, ext):
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind=kind, file=files.upload(name, data))
    assert item.file_type == file_type
    assert item.size == len(data)
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.original_name == name
    pattern = rf"^evidence/{draft_appeal.enterprise_id}/{draft_appeal.reference}/{item.group}/{item.uuid}\.{re.escape(ext)}$"
    assert re.match(pattern, item.storage_name), item.storage_name
    with storages["evidence"].open(item.storage_name, "rb") as fp:
        assert fp.read() == data
    event = AuditEvent.objects.get(action="evidence.upload")
    assert event.after["sha256"] == item.sha256 and event.actor == enterprise_admin


def test_the_users_file_name_never_reaches_the_path(draft_appeal, enterprise_admin):
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice",
                               file=files.upload("../../../etc/passwd\x00.png", files.image_bytes("PNG")))
    assert "passwd" not in item.storage_name and ".." not in item.storage_name
    assert item.original_name == "passwd.png"  # kept as text, path parts and control characters dropped


def test_a_large_upload_is_streamed_from_its_temporary_file(draft_appeal, enterprise_admin, settings):
    data = files.log_csv([f"2026-11-20 10:{i // 60 % 60:02d}:{i % 60:02d},wx-1,operations,send_message,c{i},hello,10.0.0.1,d1"
                          for i in range(60000)]).encode()
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE * 4
    upload = files.temp_upload("big.csv", data)
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log", file=upload)
    upload.close()  # as Django does after the request; the temporary file was moved into storage
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    with storages["evidence"].open(item.storage_name, "rb") as fp:
        assert hashlib.sha256(fp.read()).hexdigest() == item.sha256
    assert LogAnalysis.objects.filter(evidence=item).exists()


def test_per_kind_size_limit(draft_appeal, enterprise_admin, settings):
    settings.EVIDENCE = {**settings.EVIDENCE, "MAX_BYTES_PER_KIND": {**settings.EVIDENCE["MAX_BYTES_PER_KIND"], "ban_notice": 100}}
    with pytest.raises(ValidationFailed) as err:
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice", file=files.upload("a.png", files.image_bytes("PNG", size=(300, 300), color=(1, 2, 3))))
    assert err.value.code == "too_large"


def test_per_appeal_count_and_total_size_quotas(draft_appeal, enterprise_admin, settings):
    settings.EVIDENCE = {**settings.EVIDENCE, "MAX_ITEMS_PER_APPEAL": 2}
    for _ in range(2):
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    with pytest.raises(ValidationFailed) as err:
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    assert err.value.code == "quota_count"

    png = files.image_bytes("PNG")
    settings.EVIDENCE = {**settings.EVIDENCE, "MAX_ITEMS_PER_APPEAL": 10, "MAX_TOTAL_BYTES_PER_APPEAL": len(png) * 2 + 10}
    with pytest.raises(ValidationFailed) as err:
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", png))
    assert err.value.code == "quota_size"
    assert EvidenceItem.objects.count() == 2


def test_unknown_kind_is_a_field_error(draft_appeal, enterprise_admin):
    with pytest.raises(ValidationFailed) as err:
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="selfie", file=files.upload("a.png", files.image_bytes("PNG")))
    assert "kind" in err.value.fields


def test_only_the_owning_enterprise_may_upload(draft_appeal, other_admin, first_reviewer):
    for user in (other_admin, first_reviewer):
        with pytest.raises(PermissionDenied):
            svc.evidence_upload(appeal=draft_appeal, by=user, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))


def test_a_failed_database_write_leaves_no_file_behind(draft_appeal, enterprise_admin, monkeypatch):
    """Nothing half-written: if recording fails after the file was stored, the file goes too."""
    storage = storages["evidence"]
    before = _all_files(storage, f"evidence/{draft_appeal.enterprise_id}")

    def boom(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(svc, "audit_object", boom)
    with pytest.raises(RuntimeError):
        svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    assert _all_files(storage, f"evidence/{draft_appeal.enterprise_id}") == before


def _all_files(storage, top):
    if not storage.exists(top):
        return set()
    out = set()
    stack = [top]
    while stack:
        d = stack.pop()
        dirs, names = storage.listdir(d)
        out |= {f"{d}/{n}" for n in names}
        stack += [f"{d}/{x}" for x in dirs]
    return out


def test_evidence_is_immutable_after_submission_but_may_be_added_in_needs_info(
    complete_draft, enterprise_admin, first_reviewer
):
    from appeals.core.services import appeals as appeal_services

    item = EvidenceItem.objects.filter(appeal=complete_draft).first()
    appeal = appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    with pytest.raises(GuardFailed) as err:
        svc.evidence_delete(item=item, by=enterprise_admin)
    assert err.value.code == "evidence_locked"
    with pytest.raises(GuardFailed):
        svc.evidence_upload(appeal=appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    appeal = builders.pass_verification(appeal, by=enterprise_admin)
    appeal = appeal_services.appeal_claim(appeal=appeal, by=first_reviewer)
    from appeals.core.workflow import Action, apply_transition

    appeal = apply_transition(appeal=appeal, action=Action.REQUEST_INFO, by=first_reviewer, comment="Need chat history")
    added = svc.evidence_upload(appeal=appeal, by=enterprise_admin, kind="other", file=files.upload("more.png", files.image_bytes("PNG")))
    assert added.pk
    with pytest.raises(GuardFailed):
        svc.evidence_delete(item=added, by=enterprise_admin)
    assert EvidenceItem.objects.filter(pk=item.pk).exists()


def test_a_draft_item_can_be_deleted_and_its_file_goes(draft_appeal, enterprise_admin, django_capture_on_commit_callbacks):
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    pk = item.pk
    with django_capture_on_commit_callbacks(execute=True):
        svc.evidence_delete(item=item, by=enterprise_admin)
    assert not EvidenceItem.objects.filter(pk=pk).exists()
    assert not storages["evidence"].exists(item.storage_name)
    assert AuditEvent.objects.filter(action="evidence.delete", target_id=str(pk)).exists()
