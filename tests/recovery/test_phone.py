"""The recovery pages fit a 390 px phone in both languages: the applicant's draft with the
self-check, the restored case's checklist (applicant and reviewer), the managers' template pages."""

from datetime import datetime, timedelta

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import sync_playwright

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as evidence_services
from appeals.recovery.models import RecoveryStepTemplate
from tests import builders, factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PASSWORD, PHONE
from tests.evidence import files
from tests.recovery.conftest import _SEED, approve

T0 = datetime(2026, 11, 29, 14, 0, 0)


@pytest.fixture
def cases(transactional_db):
    if not RecoveryStepTemplate.objects.exists():
        _SEED(django_apps, None)
    enterprise = factories.EnterpriseFactory(name="深圳市长名称测试科技股份有限公司华南区域运营中心")
    account = factories.AccountFactory(enterprise=enterprise, display_name="客服账号-非常长的显示名称用于测试换行")
    admin = factories.UserFactory(username="admin-a", enterprise=enterprise)
    r1 = factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True)
    r2 = factories.UserFactory(username="reviewer-2", is_first_reviewer=True, is_second_reviewer=True)
    factories.UserFactory(username="manager", is_manager=True)
    incident = factories.IncidentFactory(account=account, created_by=admin, kind="requests_fail")
    draft = appeal_services.appeal_create(by=admin, incident=incident, statement="说明" * 50, contact_phone="13700000001")
    rows = [f"{T0 + timedelta(seconds=50 * i):%Y-%m-%d %H:%M:%S},wx-1,operations,add_friend,u,你好,10.0.0.1,d1" for i in range(63)]
    rows.append(f"{T0:%Y-%m-%d %H:%M:%S},wx-非常长的客服账号名称用于测试换行,customer_service,export_data,all,,10.0.0.3,d3")
    item = evidence_services.evidence_upload(appeal=draft, by=admin, kind="operation_log",
                                             file=files.upload("log.csv", files.log_csv(rows).encode()))
    evidence_services.evidence_analyse_log(item_id=item.pk)
    incident2 = factories.IncidentFactory(account=account, created_by=admin, kind="requests_fail")
    restored = appeal_services.appeal_create(by=admin, incident=incident2, statement="说明", contact_phone="13700000002")
    restored = approve(builders.submitted_appeal(restored, admin), r1, r2)
    template = RecoveryStepTemplate.objects.filter(kind="requests_fail").first()
    return {"draft": draft.reference, "restored": restored.reference, "template": template.pk}


PAGES = {
    "admin-a": ["/appeals/{draft}/", "/appeals/{restored}/"],
    "reviewer-1": ["/appeals/{restored}/"],
    "manager": ["/recovery/templates/", "/recovery/templates/{template}/", "/recovery/templates/new/"],
}


@pytest.mark.browser
def test_recovery_pages_fit_a_phone_in_both_languages(live_server, cases):
    overflowing, missing = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for language, locale in (("zh-hans", "zh-CN"), ("en", "en-US")):
                for username, paths in PAGES.items():
                    context = browser.new_context(viewport=PHONE, locale=locale)
                    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
                    page = context.new_page()
                    page.goto(f"{live_server.url}/login/")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("form button.primary")
                    page.wait_for_selector(".who")
                    for path in paths:
                        page.goto(live_server.url + path.format(**cases))
                        if "/appeals/" in path and not page.locator("#recovery-plan").count():
                            missing.append((language, username, path))
                        if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                            overflowing.append((language, username, path))
                    context.close()
        finally:
            browser.close()
    assert missing == []
    assert overflowing == []
