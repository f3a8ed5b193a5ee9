"""The evidence API: multipart upload, list, metadata, download, checklist, bundle, tenancy, schema."""

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client

from appeals.core.services import appeals as appeal_services
from appeals.models import AuditEvent, EvidenceItem
from tests.evidence import files

pytestmark = pytest.mark.django_db
ID_NUMBER = "110101199003071234"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def url(appeal, tail=""):
    return f"/api/v1/appeals/{appeal.reference}/{tail}"


def upload(c, appeal, kind, name, data):
    return c.post(url(appeal, "evidence/"), {"kind": kind, "file": files.upload(name, data)})


@pytest.fixture
def submitted_with_evidence(complete_draft, enterprise_admin):
    return appeal_services.appeal_submit(appeal=complete_draft, by=enterprise_admin)


def test_multipart_upload_returns_the_metadata_with_a_masked_name(draft_appeal, enterprise_admin):
    data = files.image_bytes("JPEG")
    resp = upload(client_for(enterprise_admin), draft_appeal, "admin_id_front", f"身份证_{ID_NUMBER}.jpg", data)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["file_type"] == "jpeg" and body["kind"] == "admin_id_front" and body["group"] == "account_info"
    assert ID_NUMBER not in json.dumps(body, ensure_ascii=False)
    assert body["original_name"] == "身份证_110***********1234.jpg"
    assert body["links"]["download"].endswith(f"/evidence/{body['uuid']}/download/")


def test_a_large_upload_is_hashed_while_streaming_through_the_parser(draft_appeal, enterprise_admin, settings):
    data = files.log_csv([f"2026-11-20 10:00:{i % 60:02d},wx-1,operations,send_message,c{i},hello there,10.0.0.1,d1"
                          for i in range(40000)]).encode()
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    resp = upload(client_for(enterprise_admin), draft_appeal, "operation_log", "log.csv", data)
    assert resp.status_code == 201, resp.content
    assert resp.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert resp.json()["analysis"]["status"] == "pending"


@pytest.mark.parametrize(("name", "kind", "data", "code"), [c for c in files.bad_corpus() if c[3] in
                         ("empty_file", "executable", "svg", "html", "corrupt_image", "disguised_type", "image_bomb")])
def test_refused_files_get_a_field_level_400(draft_appeal, enterprise_admin, name, kind, data, code):
    resp = upload(client_for(enterprise_admin), draft_appeal, kind, name, data)
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == code
    assert body["fields"]["file"] == [body["detail"]]


def test_missing_fields_are_field_errors(draft_appeal, enterprise_admin):
    resp = client_for(enterprise_admin).post(url(draft_appeal, "evidence/"), {"kind": "nope"})
    assert resp.status_code == 400
    assert set(resp.json()["fields"]) == {"kind", "file"}


def test_download_is_an_attachment_with_a_safe_name_and_is_audited(submitted_with_evidence, first_reviewer, enterprise_admin):
    appeal = submitted_with_evidence
    item = EvidenceItem.objects.get(appeal=appeal, kind="admin_id_front")
    resp = client_for(first_reviewer).get(url(appeal, f"evidence/{item.uuid}/download/"))
    assert resp.status_code == 200
    body = b"".join(resp.streaming_content)
    assert hashlib.sha256(body).hexdigest() == item.sha256
    assert resp["Content-Disposition"] == f'attachment; filename="{appeal.reference}_admin_id_front_{str(item.uuid)[:8]}.png"'
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Type"] == "image/png"
    assert "no-store" in resp["Cache-Control"]
    event = AuditEvent.objects.filter(action="evidence.view").latest("position")
    assert event.actor == first_reviewer and event.target_id == str(item.pk)
    assert event.after["kind"] == "admin_id_front" and event.after["variant"] == "original"


def test_tenancy_and_roles_on_every_evidence_endpoint(submitted_with_evidence, other_admin, enterprise_admin, manager):
    appeal = submitted_with_evidence
    item = EvidenceItem.objects.filter(appeal=appeal).first()
    tails = ["evidence/", f"evidence/{item.uuid}/", f"evidence/{item.uuid}/download/", "evidence/checklist/",
             "risk-flags/", "bundle/"]
    foreign = client_for(other_admin)
    for tail in tails:
        assert foreign.get(url(appeal, tail)).status_code == 404, tail
    assert foreign.post(url(appeal, "evidence/"), {"kind": "other", "file": files.upload("a.png", files.image_bytes("PNG"))}).status_code == 404
    anonymous = Client()
    assert anonymous.get(url(appeal, f"evidence/{item.uuid}/download/")).status_code in (401, 403)
    for user in (enterprise_admin, manager):
        assert client_for(user).get(url(appeal, f"evidence/{item.uuid}/download/")).status_code == 200
    assert not AuditEvent.objects.filter(action="evidence.view", actor=other_admin).exists()


def test_reviewers_do_not_see_a_drafts_files(complete_draft, first_reviewer):
    item = EvidenceItem.objects.filter(appeal=complete_draft).first()
    assert client_for(first_reviewer).get(url(complete_draft, f"evidence/{item.uuid}/download/")).status_code == 404


def test_after_submission_delete_and_upload_are_409(submitted_with_evidence, enterprise_admin):
    c = client_for(enterprise_admin)
    item = EvidenceItem.objects.filter(appeal=submitted_with_evidence).first()
    resp = c.delete(url(submitted_with_evidence, f"evidence/{item.uuid}/"))
    assert resp.status_code == 409 and resp.json()["code"] == "evidence_locked"
    resp = upload(c, submitted_with_evidence, "other", "a.png", files.image_bytes("PNG"))
    assert resp.status_code == 409


def test_submit_without_evidence_is_409_with_the_missing_kinds(draft_appeal, enterprise_admin):
    c = client_for(enterprise_admin)
    upload(c, draft_appeal, "ban_notice", "n.png", files.image_bytes("PNG"))
    checklist = c.get(url(draft_appeal, "evidence/checklist/")).json()
    assert checklist["complete"] is False
    assert {e["kind"] for e in checklist["entries"] if not e["satisfied"]} == {"admin_id_front", "admin_id_back", "authorization_letter"}


def test_case_bundle_has_evidence_manifest_and_timeline(submitted_with_evidence, first_reviewer):
    appeal = submitted_with_evidence
    resp = client_for(first_reviewer).get(url(appeal, "bundle/"))
    assert resp.status_code == 200
    assert resp["Content-Disposition"] == f'attachment; filename="{appeal.reference}-bundle.zip"'
    z = zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))
    manifest = json.loads(z.read("manifest.json"))
    items = {i.sha256 for i in EvidenceItem.objects.filter(appeal=appeal)}
    assert len(manifest["files"]) == EvidenceItem.objects.filter(appeal=appeal).count() == 4
    for entry in manifest["files"]:
        assert hashlib.sha256(z.read(entry["path"])).hexdigest() == entry["sha256"]
        assert entry["sha256"] in items and entry["verified"] is True
    sums = z.read("SHA256SUMS").decode().splitlines()
    assert len(sums) == 4
    timeline = json.loads(z.read("timeline.json"))
    assert [e["action"] for e in timeline][:1] == ["submit"]
    assert AuditEvent.objects.filter(action="appeal.bundle_download", actor=first_reviewer).exists()


def test_openapi_schema_has_binary_upload_and_download():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/appeals/{reference}/evidence/"]["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    ref = form["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert props["file"]["format"] == "binary"
    assert set(schema["components"]["schemas"][ref]["required"]) == {"kind", "file"}
    download = schema["paths"]["/api/v1/appeals/{reference}/evidence/{uuid}/download/"]["get"]["responses"]
    # Declared under each media type a stored file can have (what the response says it is).
    assert {m: c["schema"]["format"] for m, c in download["200"]["content"].items()} == dict.fromkeys(
        ["application/gzip", "application/pdf", "image/jpeg", "image/png", "image/webp", "text/csv",
         # operation records from the platform (appeals.platform): the API's JSON pages, the console's XLSX
         "application/json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], "binary")
    assert "302" in download
    bundle = schema["paths"]["/api/v1/appeals/{reference}/bundle/"]["get"]["responses"]
    assert bundle["200"]["content"]["application/zip"]["schema"]["format"] == "binary"


def test_thumbnail_and_preview_are_served_inline_once_derived(draft_appeal, enterprise_admin):
    from appeals.evidence import services as svc

    c = client_for(enterprise_admin)
    body = upload(c, draft_appeal, "ban_notice", "n.jpg", files.jpeg_with_orientation(size=(600, 300))).json()
    resp = c.get(url(draft_appeal, f"evidence/{body['uuid']}/thumbnail/"))
    assert resp.status_code == 404 and resp.json()["code"] == "not_ready"

    item = svc.evidence_derive_display_copies(item_id=EvidenceItem.objects.get(uuid=body["uuid"]).pk)
    listed = c.get(url(draft_appeal, "evidence/")).json()[0]
    assert listed["derived_status"] == "ready" and listed["links"]["thumbnail"].endswith("/thumbnail/")
    for variant in ("thumbnail", "preview"):
        resp = c.get(url(draft_appeal, f"evidence/{item.uuid}/{variant}/"))
        assert resp.status_code == 200
        assert resp["Content-Type"] == "image/jpeg"
        assert resp["Content-Disposition"].startswith("inline;")
        assert b"".join(resp.streaming_content)[:3] == b"\xff\xd8\xff"
        assert AuditEvent.objects.filter(action="evidence.view", after__variant=variant).exists()


def test_an_oversize_body_is_refused_without_being_parsed(draft_appeal, enterprise_admin, settings):
    limits = {k: 200_000 for k in settings.EVIDENCE["MAX_BYTES_PER_KIND"]}
    settings.EVIDENCE = {**settings.EVIDENCE, "MAX_BYTES_PER_KIND": limits}
    resp = upload(client_for(enterprise_admin), draft_appeal, "operation_log", "log.csv", b"a,b\n" * 100_000)
    assert resp.status_code == 400
    assert resp.json()["code"] == "too_large" and "file" in resp.json()["fields"]
    assert not EvidenceItem.objects.exists()


def test_the_upload_handler_hashes_chunks_as_they_arrive(rf, settings):
    from django.core.files.uploadhandler import load_handler
    from django.test.client import encode_multipart

    data = b"x,y\n" * 200_000  # over FILE_UPLOAD_MAX_MEMORY_SIZE: goes to a temporary file
    body = encode_multipart("BoUnDaRy", {"kind": "operation_log", "file": files.upload("log.csv", data)})
    request = rf.post("/", data=body, content_type="multipart/form-data; boundary=BoUnDaRy")
    request.upload_handlers = [load_handler(h, request) for h in settings.FILE_UPLOAD_HANDLERS]
    uploaded = request.FILES["file"]
    assert uploaded.sha256_streamed == hashlib.sha256(data).hexdigest()
    assert uploaded.size_streamed == len(data) and hasattr(uploaded, "temporary_file_path")


def test_a_missing_stored_file_is_a_clear_404_not_a_500(draft_appeal, enterprise_admin):
    import os

    from django.core.files.storage import storages

    c = client_for(enterprise_admin)
    body = upload(c, draft_appeal, "other", "a.png", files.image_bytes("PNG")).json()
    item = EvidenceItem.objects.get(uuid=body["uuid"])
    os.remove(storages["evidence"].path(item.storage_name))
    resp = c.get(url(draft_appeal, f"evidence/{item.uuid}/download/"))
    assert resp.status_code == 404 and resp.json()["code"] == "file_missing"
