"""Evidence on S3 through django-storages, over real HTTP against moto's S3 server on loopback."""

import hashlib
import io
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from io import StringIO

import boto3
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from moto.server import ThreadedMotoServer
from PIL import Image

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as svc
from appeals.models import EvidenceItem
from config.settings.base import evidence_s3_storage
from tests.evidence import files
from tests.evidence.conftest import attach_required_evidence

pytestmark = pytest.mark.django_db
BUCKET = "appeal-evidence"
KEYS = {"access_key": "testing-key", "secret_key": "testing-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint):
    config = evidence_s3_storage(bucket=BUCKET, endpoint_url=s3_endpoint, expire=120, **KEYS)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=KEYS["access_key"],
                          aws_secret_access_key=KEYS["secret_key"], config=config["OPTIONS"]["client_config"])
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "evidence": config}
    settings.EVIDENCE = {**settings.EVIDENCE, "PRESIGNED_URL_SECONDS": 120}
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_upload_goes_to_the_bucket_under_the_evidence_layout(s3, draft_appeal, enterprise_admin):
    data = files.log_csv([f"2026-11-20 10:00:{i % 60:02d},wx,operations,send_message,c,hi,1.1.1.1,d" for i in range(20000)]).encode()
    c = Client()
    c.force_login(enterprise_admin)
    resp = c.post(f"/api/v1/appeals/{draft_appeal.reference}/evidence/", {"kind": "operation_log", "file": files.upload("log.csv", data)})
    assert resp.status_code == 201, resp.content
    item = EvidenceItem.objects.get(uuid=resp.json()["uuid"])
    obj = s3.get_object(Bucket=BUCKET, Key=item.storage_name)
    body = obj["Body"].read()
    assert body == data and hashlib.sha256(body).hexdigest() == item.sha256
    assert item.storage_name.startswith(f"evidence/{draft_appeal.enterprise_id}/{draft_appeal.reference}/operation_logs/")

    # the analysis reads the object back as a stream
    analysis = svc.evidence_analyse_log(item_id=item.pk)
    assert analysis.status == "done" and analysis.rows_total == 20000


def test_download_redirects_to_a_short_lived_presigned_url(s3, draft_appeal, enterprise_admin, first_reviewer):
    attach_required_evidence(draft_appeal, enterprise_admin)
    appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    item = EvidenceItem.objects.get(appeal=appeal, kind="admin_id_back")
    c = Client()
    c.force_login(first_reviewer)
    resp = c.get(f"/api/v1/appeals/{appeal.reference}/evidence/{item.uuid}/download/")
    assert resp.status_code == 302
    location = resp["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    # Expiry is part of the signed query (moto's server does not itself enforce expiry, so the
    # test checks what S3 would: a SigV4 signature over a short X-Amz-Expires from now).
    assert int(query["X-Amz-Expires"][0]) == 120
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and len(query["X-Amz-Signature"][0]) == 64
    with urllib.request.urlopen(location, timeout=10) as remote:  # a real HTTP GET to the S3 server
        body = remote.read()
        disposition = remote.headers["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == item.sha256
    assert disposition.startswith("attachment;") and f"{appeal.reference}_admin_id_back" in disposition


def test_the_presigned_lifetime_comes_from_settings(s3, settings, draft_appeal, enterprise_admin):
    settings.EVIDENCE = {**settings.EVIDENCE, "PRESIGNED_URL_SECONDS": 45}
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other", file=files.upload("a.png", files.image_bytes("PNG")))
    c = Client()
    c.force_login(enterprise_admin)
    resp = c.get(f"/api/v1/appeals/{draft_appeal.reference}/evidence/{item.uuid}/download/")
    assert resp.status_code == 302 and resp["Cache-Control"] == "private, no-store"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(resp["Location"]).query)["X-Amz-Expires"] == ["45"]


def test_derived_copies_bundle_and_verify_work_on_s3(s3, draft_appeal, enterprise_admin):
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice",
                               file=files.upload("n.jpg", files.jpeg_with_orientation(size=(400, 200))))
    item = svc.evidence_derive_display_copies(item_id=item.pk)
    assert item.derived_status == "ready"
    preview = Image.open(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=item.preview_name)["Body"].read()))
    assert preview.size == (200, 400) and not preview.getexif()

    out = StringIO()
    call_command("verify_evidence", stdout=out)
    assert "intact, 1 files verified" in out.getvalue()
    s3.put_object(Bucket=BUCKET, Key=item.storage_name, Body=b"\xff\xd8\xff tampered")
    with pytest.raises(CommandError):
        call_command("verify_evidence", stdout=StringIO())


def test_reading_a_large_object_spools_to_disk_not_memory(s3, draft_appeal, enterprise_admin):
    from appeals.evidence.services import evidence_storage

    data = files.log_csv([f"2026-11-20 10:00:{i % 60:02d},wx,operations,send_message,c,hi,1.1.1.1,d" for i in range(80000)]).encode()
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log", file=files.temp_upload("log.csv", data))
    with evidence_storage().open(item.storage_name, "rb") as fp:
        assert fp.read(10) == data[:10]
        assert fp.file._rolled  # SpooledTemporaryFile moved to disk: the object is not held in memory
