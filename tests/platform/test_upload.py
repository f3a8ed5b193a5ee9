"""The same records uploaded as a file by an admin who cannot connect an app: the API's JSON
pages, or the console's CSV / XLSX export with Chinese headers. Stored as the original (SHA-256),
analysed through the converted CSV."""

import csv
import hashlib
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.evidence.models import EvidenceItem, RiskFlag
from appeals.evidence.services import evidence_analyse_log, evidence_storage
from appeals.platform.records import to_csv

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def export_rows(ban):
    """A console export: 操作时间, 操作者, 操作类型, 详情, IP."""
    t0 = timezone.localtime(ban - timedelta(days=2))
    rows = [["操作时间", "操作者", "操作类型", "详情", "IP"]]
    rows.append([(t0 - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"), "wx-sales-01", "副设备登录", "iPad", "10.0.0.8"])
    for i in range(55):
        rows.append([(t0 + timedelta(seconds=30 * i)).strftime("%Y-%m-%d %H:%M:%S"), "wx-sales-01", "添加外部联系人", f"ext-{i}", "10.0.0.8"])
    rows.append([(t0 + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S"), "wx-sales-01", "新设备登录", "PC", "198.51.100.4"])
    rows.append([(t0 + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S"), "wx-sales-01", "锁定设备", "", ""])
    return rows


def analysed_rules(item) -> set[str]:
    evidence_analyse_log(item_id=item.pk)
    return set(RiskFlag.objects.filter(evidence=item).values_list("rule", flat=True))


def upload(user, appeal, name: str, content: bytes):
    return api(user).post(f"/api/v1/appeals/{appeal.reference}/wecom-records/",
                          {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_a_csv_export_with_chinese_headers_in_gbk(draft_appeal, enterprise_admin):
    buf = io.StringIO()
    csv.writer(buf).writerows(export_rows(draft_appeal.incident.banned_at))
    content = buf.getvalue().encode("gb18030")
    response = upload(enterprise_admin, draft_appeal, "成员操作记录.csv", content)
    assert response.status_code == 201, response.content
    item = EvidenceItem.objects.get(uuid=response.json()["uuid"])
    assert item.file_type == "csv" and item.sha256 == hashlib.sha256(content).hexdigest()
    assert response.json()["links"]["preview"].endswith("/preview/")
    assert analysed_rules(item) == {"mass_add", "location_anomaly", "platform_ban"}
    assert item.analysis.rows_total == 58 and item.analysis.rows_malformed == 0


def test_an_xlsx_export_read_in_streaming_mode(draft_appeal, enterprise_admin):
    workbook = openpyxl.Workbook()
    for row in export_rows(draft_appeal.incident.banned_at):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    response = upload(enterprise_admin, draft_appeal, "export.xlsx", out.getvalue())
    assert response.status_code == 201, response.content
    item = EvidenceItem.objects.get(uuid=response.json()["uuid"])
    assert item.file_type == "xlsx" and item.size == len(out.getvalue())
    assert analysed_rules(item) == {"mass_add", "location_anomaly", "platform_ban"}
    with evidence_storage().open(item.storage_name, "rb") as fp:  # the original, unchanged
        assert hashlib.sha256(fp.read()).hexdigest() == item.sha256


def test_json_pages_as_the_api_returned_them(draft_appeal, enterprise_admin):
    ban = int(draft_appeal.incident.banned_at.timestamp())
    page = {"errcode": 0, "errmsg": "ok", "has_more": False, "next_cursor": "",
            "record_list": [{"time": ban - 3600 + i, "userid": "u1", "oper_type": 1, "detail_info": "", "ip": "10.0.0.1"}
                            for i in range(51)]}
    content = json.dumps([page], ensure_ascii=False, indent=2).encode()
    response = upload(enterprise_admin, draft_appeal, "pages.json", content)
    assert response.status_code == 201, response.content
    item = EvidenceItem.objects.get(uuid=response.json()["uuid"])
    assert item.file_type == "json" and analysed_rules(item) == {"mass_add"}
    preview = api(enterprise_admin).get(response.json()["links"]["preview"])
    assert preview.status_code == 200 and preview["Content-Type"] == "text/csv"


@pytest.mark.parametrize(("name", "content", "code"), [
    ("empty.csv", b"", "empty_file"),
    ("x.csv", b"time,who\n1,2\n", "not_operation_records"),
    ("x.json", b"{not json", "invalid_json"),
    ("x.json", b'{"hello": 1}', "not_operation_records"),
    ("x.xlsx", b"PK\x03\x04garbage", "corrupt_xlsx"),
    ("x.exe", b"MZ\x90\x00" + b"\x00" * 100, "executable"),
    ("x.html", b"<html><script>alert(1)</script></html>", "html"),
])
def test_refused_files_get_a_field_error_never_a_500(draft_appeal, enterprise_admin, name, content, code):
    response = upload(enterprise_admin, draft_appeal, name, content)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and "file" in response.json()["fields"]
    assert not EvidenceItem.objects.filter(appeal=draft_appeal).exists()


def test_another_enterprise_cannot_upload_and_desk_staff_may_not(draft_appeal, other_admin, first_reviewer):
    content = "操作时间,操作者,操作类型\n2026-11-20 10:00:00,u,新设备登录\n".encode()
    assert upload(other_admin, draft_appeal, "a.csv", content).status_code == 404
    assert upload(first_reviewer, draft_appeal, "a.csv", content).status_code == 404  # drafts are the applicant's


def test_converted_rows_escape_formulas_and_keep_one_line_each():
    data, rows = to_csv([{"kind": "member", "time": 1_760_000_000, "userid": "=cmd|' /C calc'!A0", "oper_type": 11,
                          "detail_info": "two\nlines", "ip": "10.0.0.1"},
                         {"kind": "admin", "time": None, "userid": "boss", "oper_type": 3, "detail_info": "", "ip": ""}])
    lines = data.decode().splitlines()
    assert rows == 2 and len(lines) == 3
    assert lines[1].split(",")[1].startswith("'=") and "two lines" in lines[1]
    assert lines[2].startswith(",boss,master,wecom_admin_3,成员与部门变更")
