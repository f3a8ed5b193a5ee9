"""Issue 10 item 5: PDFs read by a real parser, CSV sniffing that a cell cannot fool, gzip bombs
refused while they inflate."""

import gzip
import time

import pytest
from django.test import Client, RequestFactory

from appeals.evidence import services as svc
from appeals.evidence.web import render_evidence_panel
from appeals.models import EvidenceItem
from appeals.shared.exceptions import ValidationFailed
from tests.evidence import files

pytestmark = pytest.mark.django_db


def _upload(appeal, by, name, data, kind="authorization_letter"):
    return svc.evidence_upload(appeal=appeal, by=by, kind=kind, file=files.upload(name, data))


@pytest.mark.parametrize(("name", "data", "code"), [pytest.param(*case, id=case[0]) for case in files.pdf_corpus()])
def test_active_pdf_content_is_refused_even_inside_object_streams(draft_appeal, enterprise_admin, name, data, code):
    with pytest.raises(ValidationFailed) as err:
        _upload(draft_appeal, enterprise_admin, name, data)
    assert err.value.code == code
    assert err.value.fields["file"] == [err.value.message]
    assert not EvidenceItem.objects.exists()


def test_the_hidden_cases_carry_no_scannable_bytes():
    """What made them pass before: the action's name is not in the file's bytes."""
    corpus = {name: data for name, data, _code in files.pdf_corpus()}
    for name in ("openaction-js-objstm.pdf", "launch-objstm.pdf", "importdata-objstm.pdf", "name-escaped-js.pdf"):
        data = corpus[name]
        assert b"/JavaScript" not in data and b"/Launch" not in data and b"/ImportData" not in data, name


@pytest.mark.parametrize("object_streams", [True, False], ids=["object-streams", "classic-xref"])
def test_clean_pdfs_are_accepted_with_or_without_object_streams(draft_appeal, enterprise_admin, object_streams):
    item = _upload(draft_appeal, enterprise_admin, "letter.pdf", files.clean_pdf(object_streams=object_streams))
    assert item.file_type == "pdf" and item.link_targets == []


def test_uri_link_targets_are_shown_to_the_reviewer(draft_appeal, enterprise_admin, first_reviewer):
    data = files.pdf_with_uri_links("https://evil.example/login?next=1", "http://example.cn/a")
    item = _upload(draft_appeal, enterprise_admin, "letter.pdf", data)
    assert item.link_targets == ["https://evil.example/login?next=1", "http://example.cn/a"]

    c = Client()
    c.force_login(enterprise_admin)
    body = c.get(f"/api/v1/appeals/{draft_appeal.reference}/evidence/{item.uuid}/").json()
    assert body["warnings"] == [{"code": "pdf_links", "message": body["warnings"][0]["message"],
                                 "targets": ["https://evil.example/login?next=1", "http://example.cn/a"]}]

    request = RequestFactory().get("/")
    request.user = first_reviewer
    html = render_evidence_panel(request, draft_appeal)
    assert "pdf-links" in html and "https://evil.example/login?next=1" in html


def test_refusal_codes_reach_the_api_as_field_errors(draft_appeal, enterprise_admin):
    c = Client()
    c.force_login(enterprise_admin)
    corpus = {name: (data, code) for name, data, code in files.pdf_corpus()}
    data, code = corpus["launch-objstm.pdf"]
    resp = c.post(f"/api/v1/appeals/{draft_appeal.reference}/evidence/",
                  {"kind": "authorization_letter", "file": files.upload("letter.pdf", data)})
    assert resp.status_code == 400
    assert resp.json()["code"] == "pdf_launch"
    assert resp.json()["fields"]["file"] == [resp.json()["detail"]]


def test_a_csv_mentioning_svg_in_a_cell_is_a_csv(draft_appeal, enterprise_admin):
    data = files.log_csv(["2026-11-20 10:00:00,wx-1,operations,send_message,c1,<svg onload=alert(1)> pasted text,10.0.0.1,d1"]).encode()
    item = _upload(draft_appeal, enterprise_admin, "log.csv", data, kind="operation_log")
    assert item.file_type == "csv"
    gz = _upload(draft_appeal, enterprise_admin, "log.csv.gz", gzip.compress(data), kind="operation_log")
    assert gz.file_type == "csv_gzip"


@pytest.mark.parametrize("data", [
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    b"<!-- drawn by hand --><svg/>",
    b"<?xml version='1.0'?>\n<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'x'>\n<svg/>",
])
def test_real_svg_is_still_refused(draft_appeal, enterprise_admin, data):
    with pytest.raises(ValidationFailed) as err:
        _upload(draft_appeal, enterprise_admin, "log.csv", data, kind="operation_log")
    assert err.value.code == "svg"


def test_a_gzip_bomb_is_refused_quickly(draft_appeal, enterprise_admin):
    bomb = files.gzip_bomb(50 * 1024 * 1024)
    assert len(bomb) < 200 * 1024  # about 340 times smaller than what it inflates to
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as err:
        _upload(draft_appeal, enterprise_admin, "log.csv.gz", bomb, kind="operation_log")
    elapsed = time.perf_counter() - started
    assert err.value.code == "log_ratio"
    assert elapsed < 1.0, elapsed


def test_a_gzip_log_inflating_past_the_size_limit_is_refused(draft_appeal, enterprise_admin, settings):
    settings.EVIDENCE = {**settings.EVIDENCE, "LOG_MAX_INFLATED_BYTES": 1024 * 1024}
    rows = [f"2026-11-20 10:{i // 60 % 60:02d}:{i % 60:02d},wx-{i % 97},operations,send_message,c{i},msg {i * 7919},10.0.{i % 250}.1,d{i % 13}"
            for i in range(30000)]
    data = gzip.compress(files.log_csv(rows).encode())
    with pytest.raises(ValidationFailed) as err:
        _upload(draft_appeal, enterprise_admin, "log.csv.gz", data, kind="operation_log")
    assert err.value.code == "log_too_large"


def test_a_multi_member_gzip_log_is_accepted(draft_appeal, enterprise_admin):
    first = gzip.compress(files.log_csv(["2026-11-20 10:00:00,wx-1,operations,login,,hi,10.0.0.1,d1"]).encode())
    second = gzip.compress(b"2026-11-20 10:00:01,wx-1,operations,login,,hi,10.0.0.1,d1\n")
    item = _upload(draft_appeal, enterprise_admin, "log.csv.gz", first + second, kind="operation_log")
    assert item.file_type == "csv_gzip"


def test_a_pdf_with_too_many_objects_is_refused_before_the_walk(draft_appeal, enterprise_admin, settings):
    settings.EVIDENCE = {**settings.EVIDENCE, "PDF_MAX_OBJECTS": 50}
    data = files.pdf_with_uri_links(*[f"https://example.com/{i}" for i in range(60)])  # one object per link annotation
    with pytest.raises(ValidationFailed) as err:
        _upload(draft_appeal, enterprise_admin, "letter.pdf", data)
    assert err.value.code == "pdf_unreadable" and "50" in err.value.message
