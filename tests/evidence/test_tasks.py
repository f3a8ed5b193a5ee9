"""Derived display copies and log analysis, run by a real Celery worker process."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.files.storage import storages
from PIL import Image

from appeals.evidence import services as svc
from appeals.models import AnalysisStatus, DerivedStatus, EvidenceItem, LogAnalysis, RiskFlag
from tests.conftest import wait_for
from tests.evidence import files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_worker_derives_exif_free_upright_thumbnail_and_preview(celery_worker, draft_appeal, enterprise_admin):
    original = files.jpeg_with_orientation(size=(800, 400), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif()[0x0110] == "Secret Camera 3000"
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice", file=files.upload("n.jpg", original))
    assert item.derived_status == DerivedStatus.PENDING

    item = wait_for(lambda: EvidenceItem.objects.filter(pk=item.pk, derived_status=DerivedStatus.READY).first(), timeout=30)
    storage = storages["evidence"]
    with storage.open(item.preview_name, "rb") as fp:
        preview = Image.open(io.BytesIO(fp.read()))
    assert preview.size == (400, 800)  # rotated upright by the EXIF orientation
    assert not preview.getexif()  # no camera model, no orientation, no GPS
    with storage.open(item.thumbnail_name, "rb") as fp:
        thumb = Image.open(io.BytesIO(fp.read()))
    assert max(thumb.size) <= 320 and thumb.size[1] > thumb.size[0]
    assert item.thumbnail_name.startswith(item.storage_name.rsplit("/", 1)[0] + "/derived/")
    with storage.open(item.storage_name, "rb") as fp:  # the original is untouched
        assert fp.read() == original


def test_worker_analyses_an_uploaded_log_into_risk_flags(celery_worker, draft_appeal, enterprise_admin):
    t0 = datetime(2026, 11, 20, 9, 0, 0)
    rows = [f"{t0 + timedelta(seconds=20 * i):%Y-%m-%d %H:%M:%S},wx-sales,operations,add_friend,u{i},你好,10.0.0.1,dev-1"
            for i in range(60)]
    rows.append("garbage,row")
    rows.append(f"{t0:%Y-%m-%d %H:%M:%S},wx-cs,customer_service,export_data,all,,10.0.0.3,dev-3")
    data = files.log_csv(rows).encode("gbk")
    item = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                               file=files.upload("log.csv", __import__("gzip").compress(data)))
    analysis = wait_for(lambda: LogAnalysis.objects.filter(evidence=item, status=AnalysisStatus.DONE).first(), timeout=30)
    assert analysis.rows_total == 62 and analysis.rows_malformed == 1
    assert analysis.malformed_lines == [{"line": 62, "reason": "expected 8 columns, found 2"}]
    flags = {f.rule: f for f in RiskFlag.objects.filter(appeal=draft_appeal)}
    assert set(flags) == {"mass_add", "permission"}
    assert flags["mass_add"].count == 60 and flags["mass_add"].line_numbers[0] == 2
    assert flags["permission"].line_numbers == [63]

    # Redelivery is harmless: running it again replaces the flags, it does not double them.
    svc.evidence_analyse_log(item_id=item.pk)
    assert RiskFlag.objects.filter(appeal=draft_appeal).count() == 2
