"""The pre-submit self-check reads the case's latest analysed operation log: an uploaded CSV,
analysed by the evidence service, becomes warnings in the reader's language."""

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from appeals.evidence import services as evidence_services
from appeals.evidence.models import RiskFlag
from appeals.recovery.selfcheck import flag_warning, self_check
from tests.evidence import files
from tests.recovery.conftest import needs_zh_catalogue

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 29, 14, 0, 0)


def _row(t, operator="wx-sales", account_type="operations", action="add_friend", message="你好", ip="10.0.0.1", device="dev-1"):
    return f"{t:%Y-%m-%d %H:%M:%S},{operator},{account_type},{action},u,{message},{ip},{device}"


def upload_and_analyse(appeal, by, rows):
    item = evidence_services.evidence_upload(appeal=appeal, by=by, kind="operation_log",
                                             file=files.upload("log.csv", files.log_csv(rows).encode()))
    evidence_services.evidence_analyse_log(item_id=item.pk)
    return item


@pytest.fixture
def risky_log():
    adds = [_row(T0 + timedelta(seconds=50 * i)) for i in range(63)]  # 63 adds within 53 minutes on 11-29
    words = [_row(T0 + timedelta(hours=3, seconds=3 * i), action="send_message", message="领红包 返利") for i in range(6)]
    export = [_row(T0 + timedelta(hours=4), operator="wx-cs", account_type="customer_service", action="export_data")]
    return adds + words + export


def test_a_real_analysed_log_gives_the_warnings_in_english_and_chinese(draft_appeal, enterprise_admin, risky_log):
    upload_and_analyse(draft_appeal, enterprise_admin, risky_log)
    check = self_check(appeal=draft_appeal, language="en")
    assert check.status == "done"
    texts = {w.rule: w.text for w in check.warnings}
    assert texts["mass_add"] == "63 adds in one hour on 11-29: explain it in your statement."
    assert texts["sensitive_words"].startswith("12 sensitive words (红包、返利) within one minute on 11-29 at 17:00")
    assert "Customer service sub-account wx-cs did “export_data”" in texts["permission"]


@needs_zh_catalogue
def test_the_warnings_in_chinese(draft_appeal, enterprise_admin, risky_log):
    upload_and_analyse(draft_appeal, enterprise_admin, risky_log)
    zh = {w.rule: w.text for w in self_check(appeal=draft_appeal, language="zh-hans").warnings}
    assert zh["mass_add"] == "11-29 一小时内添加好友 63 次：请在申诉说明中解释原因。"
    assert "红包、返利" in zh["sensitive_words"]


def test_the_latest_log_counts_and_a_clean_log_says_so(draft_appeal, enterprise_admin, risky_log):
    upload_and_analyse(draft_appeal, enterprise_admin, risky_log)
    assert self_check(appeal=draft_appeal, language="en").warnings
    upload_and_analyse(draft_appeal, enterprise_admin, [_row(T0, action="login")])
    assert self_check(appeal=draft_appeal, language="en").as_dict() == {"status": "done", "warnings": []}


def test_no_log_and_a_log_still_in_analysis(draft_appeal, enterprise_admin):
    assert self_check(appeal=draft_appeal, language="en").status == "none"
    evidence_services.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                                      file=files.upload("log.csv", files.log_csv([_row(T0)]).encode()))
    check = self_check(appeal=draft_appeal, language="en")
    assert check.status == "pending" and "still being analysed" in check.warnings[0].text


def test_a_rule_the_self_check_does_not_know_gets_a_generic_sentence():
    """Other capabilities add rules (health_*, anomaly detectors): named by their slug, counted, dated."""
    flag = RiskFlag(rule="health_accept_rate", operator="wx-1", count=4,
                    window_start=timezone.make_aware(datetime(2026, 11, 30, 9, 0)), detail={"rate": 0.03})
    w = flag_warning(flag)
    assert w.text == "The operation log shows “health accept rate” (4 on 11-30): explain it in your statement."
    undated = flag_warning(RiskFlag(rule="anomaly", operator="wx-1", count=2, detail={}))
    assert undated.text == "The operation log shows “anomaly” (2): explain it in your statement."


def test_the_api_answers_in_the_language_asked(api_as, draft_appeal, enterprise_admin, risky_log):
    upload_and_analyse(draft_appeal, enterprise_admin, risky_log)
    url = f"/api/v1/appeals/{draft_appeal.reference}/self-check/"
    r = api_as(enterprise_admin).get(url)
    assert r.status_code == 200
    assert {"rule": "mass_add", "text": "63 adds in one hour on 11-29: explain it in your statement.", "count": 63,
            "day": "11-29"} in r.json()["warnings"]
    r = api_as(enterprise_admin).get(url, {"language": "zh-hans"})
    assert r.status_code == 200 and r.json()["warnings"][0]["day"] == "11-29"


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "63 adds in one hour on 11-29: explain it in your statement."),
    pytest.param("zh-hans", "11-29 一小时内添加好友 63 次：请在申诉说明中解释原因。", marks=needs_zh_catalogue),
])
def test_the_case_page_shows_the_warnings_above_the_submit_button(draft_appeal, enterprise_admin, risky_log, language, expected):
    upload_and_analyse(draft_appeal, enterprise_admin, risky_log)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(enterprise_admin)
    page = client.get(f"/appeals/{draft_appeal.reference}/").content.decode()
    assert expected in page
    assert page.index('id="recovery-self-check"') < page.index('id="action-submit"')
