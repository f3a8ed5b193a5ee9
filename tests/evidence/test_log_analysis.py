"""The operation-log rules, read as a stream: thresholds, line numbers, encodings, malformed rows."""

import gzip
import io
from datetime import datetime, timedelta

import pytest
from django.conf import settings

from appeals.evidence.log_analysis import analyse_operation_log
from tests.evidence.files import HEADER

T0 = datetime(2026, 11, 20, 9, 0, 0)


def row(t, operator="wx-1", account_type="operations", action="send_message", target="c", message="hello",
        ip="10.0.0.1", device="dev-1"):
    return f"{t:%Y-%m-%d %H:%M:%S},{operator},{account_type},{action},{target},{message},{ip},{device}\n"


def analyse(text: str, encoding="utf-8", gz=False, **overrides):
    data = text.encode(encoding)
    if gz:
        data = gzip.compress(data)
    return analyse_operation_log(io.BytesIO(data), rules={**settings.EVIDENCE_LOG_RULES, **overrides})


def flags(report, rule):
    return [f for f in report.flags if f["rule"] == rule]


def test_more_than_50_adds_in_an_hour_is_flagged_with_its_lines():
    adds = [row(T0 + timedelta(seconds=60 * i), action="add_friend") for i in range(51)]  # 51 within 50 minutes
    report = analyse(HEADER + "".join(adds))
    [flag] = flags(report, "mass_add")
    assert flag["operator"] == "wx-1" and flag["count"] == 51
    assert flag["line_numbers"] == list(range(2, 53))  # line 1 is the header
    assert report.rows_total == 51 and report.rows_malformed == 0


def test_fifty_adds_an_hour_or_adds_spread_out_are_not_flagged():
    exactly_50 = [row(T0 + timedelta(seconds=60 * i), action="add_friend") for i in range(50)]
    assert not flags(analyse(HEADER + "".join(exactly_50)), "mass_add")
    spread = [row(T0 + timedelta(seconds=90 * i), action="add_friend") for i in range(100)]  # 40 an hour
    assert not flags(analyse(HEADER + "".join(spread)), "mass_add")
    two_people = [row(T0 + timedelta(seconds=30 * i), operator=f"wx-{i % 2}", action="add_friend") for i in range(80)]
    assert not flags(analyse(HEADER + "".join(two_people)), "mass_add")


def test_two_separate_bursts_are_two_flags():
    burst = [row(T0 + timedelta(seconds=i), action="add_friend") for i in range(60)]
    later = [row(T0 + timedelta(hours=5, seconds=i), action="add_friend") for i in range(55)]
    report = analyse(HEADER + "".join(burst + later))
    mass = flags(report, "mass_add")
    assert [f["count"] for f in mass] == [60, 55]
    assert mass[1]["line_numbers"][0] == 62


def test_more_than_10_sensitive_word_hits_in_a_minute():
    msgs = [row(T0 + timedelta(seconds=5 * i), message="领红包 返利" if i < 5 else "送红包") for i in range(8)]
    # hits: 5 rows x 2 + 3 rows x 1 = 13 within 40 seconds
    report = analyse(HEADER + "".join(msgs))
    [flag] = flags(report, "sensitive_words")
    assert flag["count"] == 13 and flag["detail"]["words"] == ["红包", "返利"]
    assert flag["line_numbers"] == list(range(2, 10))


def test_ten_hits_a_minute_is_not_flagged():
    msgs = [row(T0 + timedelta(seconds=5 * i), message="红包") for i in range(10)]
    slow = [row(T0 + timedelta(minutes=10, seconds=10 * i), message="红包") for i in range(12)]  # 6 a minute
    assert not flags(analyse(HEADER + "".join(msgs + slow)), "sensitive_words")


def test_new_device_with_unfamiliar_ip_is_a_location_anomaly():
    lines = [
        row(T0, ip="10.0.0.1", device="dev-1"),
        row(T0 + timedelta(minutes=1), ip="10.0.0.2", device="dev-1"),  # new IP, known device: fine
        row(T0 + timedelta(minutes=2), ip="10.0.0.1", device="dev-2"),  # new device, known IP: fine
        row(T0 + timedelta(minutes=3), ip="203.0.113.9", device="dev-9"),  # both new: flagged (line 5)
        row(T0 + timedelta(minutes=4), operator="wx-2", ip="198.51.100.1", device="dev-x"),  # first sight of wx-2
    ]
    [flag] = flags(analyse(HEADER + "".join(lines)), "location_anomaly")
    assert flag["operator"] == "wx-1" and flag["line_numbers"] == [5]
    assert flag["detail"]["first"][0]["ip"] == "203.0.113.9"


def test_actions_outside_the_account_types_permissions():
    lines = [
        row(T0, account_type="customer_service", action="export_data"),  # line 2: not allowed
        row(T0, account_type="operations", action="export_data"),  # allowed
        row(T0, account_type="developer", action="send_message"),  # line 4: not allowed
        row(T0, account_type="customer_service", action="export_data"),  # line 5
        row(T0, account_type="master", action="manage_accounts"),  # allowed
        row(T0, account_type="developer", action="login"),  # needs nothing
    ]
    found = {(f["detail"]["account_type"], f["detail"]["action"]): f for f in flags(analyse(HEADER + "".join(lines)), "permission")}
    assert set(found) == {("customer_service", "export_data"), ("developer", "send_message")}
    assert found[("customer_service", "export_data")]["line_numbers"] == [2, 5]
    assert found[("customer_service", "export_data")]["count"] == 2


def test_malformed_rows_are_counted_with_line_numbers_and_never_stop_the_analysis():
    text = (
        HEADER
        + row(T0)  # 2 ok
        + "only,three,columns\n"  # 3
        + "yesterday,wx-1,operations,login,,hi,1.1.1.1,d\n"  # 4 bad time
        + row(T0, account_type="intern")  # 5 unknown type
        + '2026-11-20 09:00:00,wx-1,operations,send_message,c,"unterminated\n'  # 6.. quoted field runs on
    )
    text += "\x00nul,,,,,,,\n" + row(T0 + timedelta(seconds=1))
    report = analyse(text)
    lines = {b["line"]: b["reason"] for b in report.malformed_lines}
    assert {3, 4, 5} <= set(lines)
    assert "8 columns" in lines[3] and "time" in lines[4] and "account type" in lines[5]
    assert report.rows_malformed >= 3 and report.rows_total >= 5
    assert report.error == ""


def test_gbk_and_gzip_and_bom_are_read():
    text = HEADER + "".join(row(T0 + timedelta(seconds=i), message="发红包返利") for i in range(6))
    for kwargs in ({"encoding": "gbk"}, {"encoding": "gbk", "gz": True}, {"encoding": "utf-8-sig"}):
        report = analyse(text, **kwargs)
        assert report.rows_total == 6 and report.rows_malformed == 0, kwargs
        assert flags(report, "sensitive_words")[0]["count"] == 12
    assert analyse(text, encoding="gbk").encoding == "gb18030"


def test_a_truncated_gzip_reports_an_error_after_what_it_read():
    data = gzip.compress((HEADER + "".join(row(T0 + timedelta(seconds=i)) for i in range(5000))).encode())
    report = analyse_operation_log(io.BytesIO(data[: len(data) // 2]), rules=settings.EVIDENCE_LOG_RULES)
    assert report.error and report.rows_total > 0


def test_a_gzip_that_inflates_past_the_cap_is_stopped():
    data = gzip.compress((HEADER + row(T0) * 20000).encode())
    report = analyse_operation_log(io.BytesIO(data), rules={**settings.EVIDENCE_LOG_RULES, "MAX_DECOMPRESSED_BYTES": 100_000})
    assert "inflates beyond" in report.error


@pytest.mark.parametrize("header", [True, False])
def test_the_header_row_is_optional(header):
    report = analyse((HEADER if header else "") + row(T0) + row(T0))
    assert report.rows_total == 2 and report.rows_malformed == 0


def test_line_numbers_stay_right_after_a_record_spanning_lines():
    text = (HEADER + row(T0)  # line 2
            + '2026-11-20 09:00:01,wx-1,operations,send_message,c,"first line\nsecond line",10.0.0.1,dev-1\n'  # lines 3-4
            + row(T0 + timedelta(seconds=2), account_type="customer_service", action="export_data"))  # line 5
    [flag] = flags(analyse(text), "permission")
    assert flag["line_numbers"] == [5]
