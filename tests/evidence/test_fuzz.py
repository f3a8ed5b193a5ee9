"""Whatever bytes arrive, the checks answer with a field-level refusal or a result, never a crash."""

import gzip
import io

from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from appeals.evidence.files import inspect_upload
from appeals.evidence.log_analysis import analyse_operation_log
from appeals.evidence.models import KIND_RULES
from appeals.shared.exceptions import ValidationFailed
from tests.evidence import files

PREFIXES = [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP", b"%PDF-1.7\n", b"\x1f\x8b\x08",
            b"time,operator\n", b"<svg", b"MZ"]


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048), kind=st.sampled_from(sorted(KIND_RULES)))
def test_inspect_upload_never_crashes(prefix, body, kind):
    try:
        result = inspect_upload(files.upload("f.bin", prefix + body), kind=kind, name="f.bin")
    except ValidationFailed as exc:
        assert exc.fields["file"] and exc.code
    else:
        assert result.file_type in KIND_RULES[kind][1]


@hsettings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(list(',"\n\r x0123456789-:红包返利\x00') + ["add_friend", "master", "2026-11-20 10:00:00",
                                                                                  "operations,", "\n2026-11-20 10:00:01,"]),
                     max_size=120).map("".join),
       compress=st.booleans(), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_log_analysis_never_crashes(text, compress, encoding):
    data = text.encode(encoding, errors="replace")
    if compress:
        data = gzip.compress(data)
    report = analyse_operation_log(io.BytesIO(data), rules=settings.EVIDENCE_LOG_RULES)
    assert report.rows_malformed <= report.rows_total
    assert all(isinstance(b["line"], int) for b in report.malformed_lines)
