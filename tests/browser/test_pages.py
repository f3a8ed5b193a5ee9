"""Every page of the desk, as each role sees it, in both languages and on a phone and a laptop.

One walk (one live server, one seeded desk in Chinese) visits each page once per (language,
viewport) and checks, on every visit:

- the page itself never scrolls sideways (wide tables scroll inside their own box), at 390x844
  and at 1366x900, and keeps a full-page screenshot in .test-screenshots/ named
  `<page>-<lang>-<w>x<h>.png`;
- axe-core (tests/browser/vendor/axe-core, vendored from the npm registry) with the WCAG 2.1
  A/AA rules finds nothing, once per (page, language);
- in zh-Hans, no English word is left in the text, the accessible names or the title once the
  data the fixture wrote (references, usernames, emails, dates, file hashes) and a few product
  and format names are taken out;
- keyboard: the first Tab lands on a visible skip link to the main content, and every element
  Tab reaches shows a visible focus ring.

The upload area is driven from the keyboard alone in its own test below.
"""

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect, sync_playwright

from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as evidence_services
from appeals.evidence.selectors import evidence_list
from appeals.models import AppealState
from appeals.notifications import dev_inbox
from appeals.surge import services as surge_services
from appeals.surge.policy import surge_policy
from appeals.surge.rule import surge_rule
from appeals.surge.slices import ALL_SLICE
from tests import builders, factories
from tests.browser.test_lifecycle import CHROMIUM_ARGS, PHONE, _log_in
from tests.evidence import files

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".test-screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 900}
VIEWPORTS = (PHONE, DESKTOP)
LANGUAGES = ("zh-hans", "en")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe runs once per (page, language): zh-Hans on the phone, English on the laptop, so that both
# layouts (cards and scroll boxes on a phone, full tables on a laptop) are checked.
AXE_VIEWPORT = {"zh-hans": PHONE, "en": DESKTOP}

# Chinese names for the evidence files, so that the file column reads as an applicant's would.
FILE_NAMES = {
    "ban_notice": "封禁通知截图.png",
    "admin_id_front": "身份证人像面.png",
    "admin_id_back": "身份证国徽面.png",
    "authorization_letter": "授权书.pdf",
    "business_license": "营业执照.pdf",
    "operation_log": "操作日志.csv",
    "other": "其他材料.png",
}

# What may stay Latin in a zh-Hans page: data the fixture wrote and names that are not English
# words. Everything else made of three or more Latin letters is an untranslated string.
DATA_PATTERNS = [
    r"[\w.+*-]+@[\w-]+(?:\.[\w-]+)+",  # email addresses (masked ones too: o***@example.com)
    r"https?://\S+",  # links
    r"\bAP-\d{4}-\d{6}\b",  # references
    r"\b[0-9a-f]{12,}\b",  # SHA-256 digests, tokens
    r"\bSHA-256\b",
    r"\bHMAC-SHA256\b",  # the webhook signature's algorithm
    r"\bww[0-9a-f]{8,}\b",  # a WeCom corp id (the example in the connection form)
    r"\b(?:GET|POST|PATCH|PUT|DELETE)?\s*/api/v1/[\w/{}.-]*",  # API paths the pages document
    r"\bwx-\d+\b",  # account ids
    r"\.(?:png|jpe?g|webp|pdf|csv|gz|zip)\b",  # file name extensions
]
PRODUCT_WORDS = {
    # file formats and units
    "API", "CSV", "PDF", "ZIP", "PNG", "JPEG", "JPG", "WEBP", "JSON", "XLSX", "KB", "MB", "GB",
    # the language switcher names English in English
    "English",
    # the SMS providers' own names for their key IDs (the SMS provider keys page)
    "SecretId", "AccessKeyId",
    # WeCom's admin console calls the app's key "Secret" in Chinese too; URLs must be https
    "Secret", "https", "HTTPS",
}


def _walker_js() -> str:
    """Everything a user reads or hears on the page: the text, the accessible names and the title."""
    return """() => {
      const parts = [document.title, document.body.innerText];
      for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], img[alt], input[type=submit], input[type=button]')) {
        for (const attr of ['aria-label', 'title', 'placeholder', 'alt', 'value']) {
          if (el.hasAttribute(attr) && !(attr === 'value' && el.tagName !== 'INPUT')) parts.push(el.getAttribute(attr));
        }
      }
      return parts.join('\\n');
    }"""


def english_words(text: str, allowed: set[str]) -> list[str]:
    for pattern in DATA_PATTERNS:
        text = re.sub(pattern, " ", text)
    for token in sorted(allowed, key=len, reverse=True):
        text = text.replace(token, " ")
    return sorted({w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in PRODUCT_WORDS})


# --- the desk, seeded in Chinese through the services -------------------------------------------


def _upload(appeal, by, kind):
    _name, content = builders.evidence_content(kind)
    return evidence_services.evidence_upload(appeal=appeal, by=by, kind=kind, file=files.upload(FILE_NAMES[kind], content))


def _attach_required(appeal, by):
    for entry in evidence_services.evidence_missing(appeal):
        _upload(appeal, by, entry.kind)


def _inbox_code(appeal):
    phone = appeal.enterprise.legal_rep_mobile
    return next(item["code"] for item in dev_inbox.items() if item["channel"] == "sms" and item["code"] and item["to"] == phone)


def _inbox_token(appeal):
    for item in dev_inbox.items():
        if item["channel"] == "email" and appeal.reference in item["body"]:
            match = builders.LINK_RE.search(item["body"])
            if match:
                return match.group("token")
    raise AssertionError(f"no verification email for {appeal.reference} in the local inbox")


READERS = {"read_code": _inbox_code, "read_link": _inbox_token}


@pytest.fixture
def desk(transactional_db, settings, tmp_path):
    """A desk in local mode (messages kept in the local inbox) with a case in every state,
    written in Chinese by Chinese users (the messages are rendered in the language active when
    they are queued, as they are for a request in zh-Hans)."""
    with translation.override("zh-hans"):
        return _seed_desk(settings, tmp_path)


def _seed_desk(settings, tmp_path):
    settings.DEV_INBOX = True
    settings.DEV_INBOX_DIR = str(tmp_path / "inbox")
    settings.SMS_BACKEND = "appeals.notifications.dev_inbox.SmsBackend"
    settings.EMAIL_BACKEND = "appeals.notifications.dev_inbox.EmailBackend"
    settings.SITE_URL = ""
    # Delivered here, into this process's local inbox: a private queue keeps the session's worker
    # (which has its own backends) off these messages.
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": f"test-pages-{os.getpid()}"}

    enterprise = factories.EnterpriseFactory(name="上海晨光贸易有限公司", legal_rep_name="张伟", admin_name="李娜",
                                             admin_email="ops@chenguang.example")
    account = factories.AccountFactory(enterprise=enterprise, display_name="销售一部客服号")
    admin = factories.UserFactory(username="admin-a", enterprise=enterprise)
    r1 = factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)
    r2 = factories.UserFactory(username="reviewer-2", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)
    factories.UserFactory(username="manager", is_manager=True, is_staff=True, email="manager@desk.example",
                          phone="13900000001")
    phones = iter(f"1371234{n:04d}" for n in range(100))

    def new_case(statement, *, kind="short_ban", severity="medium"):
        incident = factories.IncidentFactory(
            account=account, created_by=admin, kind=kind, severity=severity,
            banned_at=timezone.now() - timedelta(hours=3),
            notice_text="您的企业微信账号因被多名用户投诉骚扰，已被限制使用七天。",
        )
        return appeal_services.appeal_create(by=admin, incident=incident, statement=statement, contact_phone=next(phones))

    draft = new_case("我们是正规贸易公司，该账号只用于给老客户发送发货通知，没有群发营销，请求解除限制。")
    _upload(draft, admin, "ban_notice")

    verifying = new_case("账号被误封，已按要求上传全部材料。")
    _attach_required(verifying, admin)
    verifying = appeal_services.appeal_submit(appeal=verifying, by=admin)
    builders.deliver_queued(verifying)
    email_token = _inbox_token(verifying)

    def complete_case(statement, **kw):
        appeal = new_case(statement, **kw)
        _attach_required(appeal, admin)  # before the builders would attach their English-named files
        return appeal

    def reviewed(statement, **kw):
        return builders.submitted_appeal(complete_case(statement, **kw), admin, **READERS)

    waiting = reviewed("客服账号被限制，影响售后服务，恳请尽快处理。")
    first = appeal_services.appeal_claim(appeal=reviewed("严重封禁：请复核操作日志。", kind="permanent_ban", severity="severe"), by=r1)
    needs_info = appeal_services.appeal_first_review(
        appeal=appeal_services.appeal_claim(appeal=reviewed("请求解封。"), by=r1),
        by=r1, decision="request_info", comment="请补充盖章的授权书清晰扫描件。",
    )
    second = builders.appeal_in_second_review(complete_case("第二次申诉，材料齐全。"), admin, reviewer=r1,
                                              comment="证据充分，建议批准。", **READERS)
    approved = builders.appeal_in_second_review(complete_case("已整改，请求解封。"), admin, reviewer=r1,
                                                comment="操作日志无异常。", **READERS)
    approved = appeal_services.appeal_claim(appeal=approved, by=r2)
    approved = appeal_services.appeal_second_review(appeal=approved, by=r2, decision="approve", comment="同意解封。",
                                                    outcome_code="restored")
    escalated = appeal_services.appeal_first_review(
        appeal=appeal_services.appeal_claim(appeal=reviewed("法定代表人手机号已停用，无法接收验证码。"), by=r1),
        by=r1, decision="escalate", comment="需要电话核实法定代表人身份。",
    )
    for appeal, state in ((draft, AppealState.DRAFT), (verifying, AppealState.SUBMITTED), (waiting, AppealState.FIRST_REVIEW),
                          (first, AppealState.FIRST_REVIEW), (needs_info, AppealState.NEEDS_INFO),
                          (second, AppealState.SECOND_REVIEW), (approved, AppealState.APPROVED),
                          (escalated, AppealState.ESCALATED)):
        assert appeal.state == state, (appeal.reference, appeal.state)

    # A surge of the whole desk, opened by the surge service as its scan would: the banner shows
    # on every page and the cases of the burst carry the emergency badge.
    policy = surge_policy()
    alert = surge_services.surge_alert_open(
        slice_=ALL_SLICE, verdict=surge_rule(count=policy.floor + 20, history=[2, 3, 2], floor=policy.floor, factor=policy.factor),
        policy=policy, now=timezone.now(),
    )
    assert alert is not None

    case = lambda appeal: f"/appeals/{appeal.reference}/"  # noqa: E731
    pages = {
        None: [
            ("login", "/login/"),
            ("email-landing", f"/verify/email/{email_token}/"),
            ("not-found", "/no-such-page/"),
        ],
        "admin-a": [
            ("dashboard", "/dashboard/"),
            ("appeal-list", "/appeals/"),
            ("appeal-new", "/appeals/new/"),
            ("appeal-new-emergency", "/appeals/new/?emergency=1"),
            ("case-draft", case(draft)),
            ("case-verifying", case(verifying)),
            ("case-needs-info", case(needs_info)),
            ("case-approved", case(approved)),
            ("local-inbox", "/dev/inbox/"),
            ("forbidden", "/manager/"),
            ("wecom-connection", "/platform/wecom/"),
            ("webhooks", "/webhooks/"),
        ],
        "reviewer-1": [
            ("queue-first", "/queues/first/"),
            ("case-first-review", case(first)),
            ("all-cases", "/appeals/"),
            ("surge-list", "/surge/"),
            ("batch-review", "/batch/"),
        ],
        "reviewer-2": [
            ("queue-second", "/queues/second/"),
            ("case-second-review", case(second)),
        ],
        "manager": [
            ("manager", "/manager/"),
            ("case-escalated", case(escalated)),
            ("sla-report", "/manager/reports/sla/"),
            ("surge-detail", f"/surge/{alert.pk}/"),
            ("surge-settings", "/surge/settings/"),
            ("sms-provider-keys", "/manager/sms-providers/"),
            ("service-accounts", "/manager/service-accounts/"),
            ("recovery-templates", "/recovery/templates/"),
            ("recovery-template-new", "/recovery/templates/new/"),
            ("webhooks-platform", "/webhooks/"),
        ],
    }
    allowed = {"admin-a", "reviewer-1", "reviewer-2", "manager"}
    return {"pages": pages, "allowed": allowed, "draft": draft}


# --- the browser ---------------------------------------------------------------------------------


def _context(browser, base, language):
    # bypass_csp: axe-core is injected as a script tag, which the site's CSP (no inline script)
    # refuses by design; tests/browser/test_csp.py walks the pages with the CSP in force.
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN" if language == "zh-hans" else "en-US", bypass_csp=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    return context


def _page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    return result


FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.getAttribute('aria-label') || el.name || el.id || '').trim().slice(0, 40),
          cls: el.className && el.className.baseVal === undefined ? el.className : '', ring: ring,
          visible: r.width > 0 && r.height > 0, focusVisible: el.matches(':focus-visible')};
}"""


START_JS = """() => {
  // Start sequential focus navigation at the top of the document, whatever has focus now
  // (an autofocus field): a focusable-by-script marker as body's first child, focused.
  const mark = document.createElement('span');
  mark.tabIndex = -1;
  mark.id = 'walk-start';
  document.body.prepend(mark);
  mark.focus();
}"""


def _keyboard_walk(page, max_stops: int = 60) -> tuple[dict | None, list[dict]]:
    """Tab through the page from the top: the first stop, and every stop without a visible ring."""
    page.evaluate(START_JS)
    first, missing, seen = None, [], set()
    for n in range(max_stops):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_JS)
        if info is None:
            break
        if n == 0:
            first = info
        key = (info["tag"], info["text"], info["cls"])
        if key in seen and n > 5:
            break  # wrapped around
        seen.add(key)
        if not info["ring"] or not info["visible"]:
            missing.append(info)
    return first, missing


def _slug(language):
    return language


@pytest.mark.browser
def test_every_page_in_both_languages_fits_passes_axe_and_reads_in_chinese(live_server, desk):
    base = live_server.url
    SCREENSHOTS.mkdir(exist_ok=True)
    shots, overflowing, violations, english, skip_link, no_ring = [], [], {}, {}, [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for language in LANGUAGES:
                for username, pages in desk["pages"].items():
                    context = _context(browser, base, language)
                    page = context.new_page()
                    page.set_default_timeout(15_000)
                    if username:
                        _log_in(page, base, username)
                    for name, path in pages:
                        for viewport in VIEWPORTS:
                            page.set_viewport_size(viewport)
                            response = page.goto(base + path)
                            assert response.status < 500, (name, response.status)
                            page.wait_for_load_state("load")
                            assert page.locator("html").get_attribute("lang") == language, (name, language)
                            width, inner = _page_width(page)
                            size = f"{viewport['width']}x{viewport['height']}"
                            if width > inner + 1:
                                overflowing.append(f"{name} {language} {size}: page is {width}px wide")
                            shot = f"{name}-{_slug(language)}-{size}.png"
                            page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
                            shots.append(shot)
                            if viewport is AXE_VIEWPORT[language]:
                                found = _axe(page)
                                if found:
                                    violations[f"{name} {language} {size}"] = found
                            if language == "zh-hans" and viewport is DESKTOP:
                                words = english_words(page.evaluate(_walker_js()), desk["allowed"])
                                if words:
                                    english[name] = words
                                first, missing = _keyboard_walk(page)
                                if not first or "skip-link" not in (first["cls"] or "") or not first["visible"]:
                                    skip_link.append(f"{name}: first Tab stop is {first}")
                                if missing:
                                    no_ring[name] = missing
                    context.close()
        finally:
            browser.close()

    pages = sum(len(p) for p in desk["pages"].values())
    assert len(shots) == pages * len(LANGUAGES) * len(VIEWPORTS)
    problems = []
    if overflowing:
        problems.append("Pages wider than the screen:\n  " + "\n  ".join(overflowing))
    if violations:
        problems.append("axe-core WCAG 2.1 AA violations:\n" + json.dumps(violations, ensure_ascii=False, indent=1))
    if english:
        problems.append("English words on zh-Hans pages:\n  " + "\n  ".join(f"{k}: {v}" for k, v in english.items()))
    if skip_link:
        problems.append("No skip link at the first Tab:\n  " + "\n  ".join(skip_link))
    if no_ring:
        problems.append("Focus without a visible ring:\n" + json.dumps(no_ring, ensure_ascii=False, indent=1))
    report = "\n\n".join(problems)
    (SCREENSHOTS / "problems.txt").write_text(report or "none\n", encoding="utf-8")
    if problems:
        pytest.fail(report, pytrace=False)


@pytest.fixture
def draft_case(transactional_db):
    with translation.override("zh-hans"):
        enterprise = factories.EnterpriseFactory(name="杭州蓝波科技有限公司")
        account = factories.AccountFactory(enterprise=enterprise, display_name="客服一号")
        admin = factories.UserFactory(username="admin-a", enterprise=enterprise)
        incident = factories.IncidentFactory(account=account, created_by=admin)
        appeal = appeal_services.appeal_create(by=admin, incident=incident, statement="账号被误封，请求解封。",
                                               contact_phone="13712345678")
    return appeal


@pytest.mark.browser
def test_skip_link_and_upload_area_work_from_the_keyboard(live_server, draft_case, tmp_path):
    """Keyboard only: the skip link moves focus to the content; Tab reaches the evidence file
    input, whose name is the drop zone's label; Space opens the file chooser and the chosen
    file is uploaded. A click on the drop zone's label opens the chooser too."""
    name, content = builders.evidence_content("ban_notice")
    path = tmp_path / "封禁通知截图.png"
    path.write_bytes(content)
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = _context(browser, base, "zh-hans")
            page = context.new_page()
            page.set_default_timeout(15_000)
            _log_in(page, base, "admin-a")
            page.goto(f"{base}/appeals/{draft_case.reference}/")

            page.evaluate(START_JS)
            page.keyboard.press("Tab")
            skip = page.locator("a.skip-link")
            expect(skip).to_be_focused()
            box = skip.bounding_box()
            assert box and box["y"] >= 0 and box["width"] > 0, "the skip link shows when focused"
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main"

            file_input = page.locator("#evidence input[type=file]")
            expect(file_input).to_have_accessible_name(re.compile("拖到此处"))
            page.select_option("#evidence select[name=kind]", "ban_notice")
            for _ in range(80):
                page.keyboard.press("Tab")
                if file_input.evaluate("el => el === document.activeElement"):
                    break
            else:
                pytest.fail("Tab never reached the evidence file input")
            assert file_input.evaluate("el => el.matches(':focus-visible') && getComputedStyle(el).outlineStyle !== 'none'")
            with page.expect_file_chooser() as chooser_info:
                page.keyboard.press("Space")
            chooser = chooser_info.value
            assert chooser.is_multiple()
            with page.expect_navigation():  # the panel reloads once the upload succeeded
                chooser.set_files(str(path))
            expect(page.locator("#evidence table.evidence-files")).to_contain_text("封禁通知截图.png")

            with page.expect_file_chooser():
                page.click("#evidence .dropzone label")
            context.close()
        finally:
            browser.close()
    assert [item.kind for item in evidence_list(appeal=draft_case)] == ["ban_notice"]
