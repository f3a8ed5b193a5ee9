"""Top-level services are durable transactions; work registered with on_commit runs after the
outermost commit, and a failure there (a broker outage) never reaches the user.

Most tests here are transactional (`transaction=True`): there on_commit callbacks really run
and Django enforces durability without the TestCase exemption.
"""

import ast
import base64
import json
import threading
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from appeals.core import workflow
from appeals.core.models import Appeal, AppealState, BanIncident
from appeals.core.services import appeals as appeal_services
from appeals.core.services import enterprises as enterprise_services
from appeals.core.services import filing, users
from appeals.evidence import services as evidence_services
from appeals.notifications import outbox
from appeals.notifications.models import Message, MessageState
from appeals.shared.exceptions import ValidationFailed
from appeals.sla import auto_resolution, calendar
from appeals.sla import services as sla_services
from appeals.surge import services as surge_services
from appeals.surge.models import SurgeAlert
from appeals.verification import services as verification_services
from config.celery import app as celery_app
from tests.api.conftest import client_for

APPEALS_PACKAGE = Path(__file__).resolve().parents[2] / "appeals"
NESTED_DURABLE = "A durable atomic block cannot be nested within another atomic block."

# Every entry point the views, API, tasks, admin and commands call (appeals.shared.db).
ENTRY_POINTS = [
    *(getattr(appeal_services, n) for n in (
        "appeal_create", "appeal_update_draft", "appeal_submit", "appeal_withdraw", "appeal_resubmit", "appeal_claim",
        "appeal_act", "appeal_first_review", "appeal_second_review", "appeal_decide_escalated", "appeal_reassign")),
    filing.appeal_file,
    *(getattr(enterprise_services, n) for n in (
        "enterprise_create", "enterprise_update", "account_create", "account_update", "incident_create",
        "incident_set_severity")),
    users.user_upsert,
    evidence_services.evidence_upload, evidence_services.evidence_delete, evidence_services.evidence_record_view,
    verification_services.verification_resend, verification_services.verification_escalate,
    sla_services.sla_policy_update, calendar.work_calendar_seed, calendar.work_calendar_set_day,
    auto_resolution.appeal_reopen,
    surge_services.surge_alert_open, surge_services.surge_alert_acknowledge, surge_services.surge_alert_resolve,
    surge_services.surge_alert_auto_resolve, surge_services.surge_settings_update,
]


# --- the real world the tests run in -------------------------------------------------------


@pytest.fixture
def surge_on_one_submission(settings):
    """A policy under which a single submission surges (floor 0, no history), counted under a
    private Redis prefix that is cleared afterwards."""
    prefix = f"surge-durable-{django_settings.DATABASES['default']['TEST']['NAME']}"
    settings.SURGE = {**settings.SURGE, "FLOOR": 0, "FACTOR": 1.0, "REDIS_PREFIX": prefix}
    client = redis.Redis.from_url(django_settings.REDIS_URL)

    def clear():
        for pattern in (f"{prefix}:*", f"*{surge_services.EMERGENCY_CACHE_KEY}", f"*{surge_services.IN_PROCESS_SCAN_KEY}"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                client.delete(*keys)

    clear()
    yield
    clear()


@pytest.fixture
def production_intake(settings):
    """Verification on, as in production. Evidence completeness is not what these tests are
    about: switched off explicitly so the draft fixture can be submitted without files."""
    settings.VERIFICATION = {**settings.VERIFICATION, "REQUIRED": True}
    settings.EVIDENCE = {**settings.EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": False}


@pytest.fixture
def private_delivery_queue(settings):
    """Outbox deliveries go to a queue no worker reads; returns a reader of the message ids on it."""
    queue = f"test-durable-{django_settings.DATABASES['default']['NAME']}"
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": queue}
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(queue)

    def published() -> list[int]:
        return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in client.lrange(queue, 0, -1)]

    yield published
    client.delete(queue)


@pytest.fixture
def broker_down():
    """The Celery broker refuses connections (nothing listens on port 1) for this test."""
    saved = (celery_app.conf.broker_url, celery_app._pool, celery_app.amqp._producer_pool)
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    celery_app._pool = celery_app.amqp._producer_pool = None  # pools are built from the URL on first use
    yield
    celery_app.conf.broker_url, celery_app._pool, celery_app.amqp._producer_pool = saved


def _seen_from_another_connection(fn):
    """fn() run on a second database connection (another thread): what other sessions see."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result["value"]


# --- the reported bug: a surge while the broker is down ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_api_submit_that_opens_a_surge_alert_while_the_broker_is_down_succeeds_and_loses_nothing(
    draft_appeal, enterprise_admin, manager, production_intake, surge_on_one_submission, private_delivery_queue, broker_down,
    settings,
):
    assert settings.CELERY_TASK_ALWAYS_EAGER is False and celery_app.conf.task_always_eager is False

    response = client_for(enterprise_admin).post(f"/api/v1/appeals/{draft_appeal.reference}/submit/")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == AppealState.SUBMITTED  # waiting for both proofs
    appeal = Appeal.objects.get(pk=draft_appeal.pk)
    assert appeal.state == AppealState.SUBMITTED and appeal.submitted_at is not None
    # The per-submission check ran after the commit and opened the alerts (the broker was down).
    assert SurgeAlert.objects.filter(dimension="all").exists()
    assert Appeal.objects.get(pk=appeal.pk).is_emergency
    # The two verification messages are committed and queued: the sweeper owns them now.
    queued = Message.objects.filter(appeal=appeal)
    assert sorted(queued.values_list("template", "state")) == [
        ("verification_code", MessageState.QUEUED), ("verification_email", MessageState.QUEUED)]
    assert private_delivery_queue() == []


@pytest.mark.django_db(transaction=True)
def test_web_submit_that_opens_a_surge_alert_while_the_broker_is_down_redirects(
    client, draft_appeal, enterprise_admin, manager, production_intake, surge_on_one_submission, private_delivery_queue,
    broker_down,
):
    client.force_login(enterprise_admin)
    url = reverse("appeal_detail", kwargs={"reference": draft_appeal.reference})

    response = client.post(url, {"action": "submit", "comment": ""})

    assert response.status_code == 302 and response.url == url
    assert Appeal.objects.get(pk=draft_appeal.pk).state == AppealState.SUBMITTED
    assert SurgeAlert.objects.exists()
    assert Message.objects.filter(appeal=draft_appeal, state=MessageState.QUEUED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_messages_stranded_by_the_outage_are_published_by_the_sweeper_once_the_broker_is_back(
    draft_appeal, enterprise_admin, manager, production_intake, surge_on_one_submission, private_delivery_queue, settings,
):
    saved = (celery_app.conf.broker_url, celery_app._pool, celery_app.amqp._producer_pool)
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    finally:
        celery_app.conf.broker_url, celery_app._pool, celery_app.amqp._producer_pool = saved
    # The two proofs for the applicant, and one email to the manager per surge alert opened
    # (one per surging slice; the manager has no phone, so no SMS).
    stranded = sorted(Message.objects.filter(state=MessageState.QUEUED).values_list("pk", flat=True))
    alerts = SurgeAlert.objects.count()
    assert alerts >= 1
    assert Message.objects.filter(appeal=draft_appeal, state=MessageState.QUEUED).count() == 2
    assert Message.objects.filter(topic="surge_alert", state=MessageState.QUEUED, recipient=manager.email).count() == alerts
    assert len(stranded) == 2 + alerts and private_delivery_queue() == []

    later = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS["SWEEP_AFTER_SECONDS"] + 1)
    assert outbox.outbox_sweep(now=later) == 2 + alerts
    assert sorted(private_delivery_queue()) == stranded


# --- why not functools.partial -------------------------------------------------------------


def _fails():
    raise ConnectionError("broker unreachable")


@pytest.mark.django_db(transaction=True)
def test_django_robust_on_commit_logs_a_failing_function_but_raises_for_a_failing_partial(caplog):
    """The trap (Django ticket #36487, present in this Django): the robust path formats
    func.__qualname__ into its log line, so a partial turns a logged failure into an exception."""
    with transaction.atomic():
        transaction.on_commit(_fails, robust=True)
    assert "Error calling" in caplog.text and "_fails" in caplog.text

    with pytest.raises(AttributeError, match="__qualname__"):
        with transaction.atomic():
            transaction.on_commit(partial(_fails), robust=True)


def _robust_on_commit_with_partial(tree: ast.AST):
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "on_commit"):
            continue
        robust = any(k.arg == "robust" and not (isinstance(k.value, ast.Constant) and k.value.value is False) for k in node.keywords)
        first = node.args[0] if node.args else None
        if robust and isinstance(first, ast.Call) and getattr(first.func, "attr", getattr(first.func, "id", None)) == "partial":
            yield node.lineno


def test_no_robust_on_commit_in_the_app_is_given_a_partial():
    offenders = [
        f"{path.relative_to(APPEALS_PACKAGE.parent)}:{line}"
        for path in sorted(APPEALS_PACKAGE.rglob("*.py"))
        for line in _robust_on_commit_with_partial(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []
    # The checker itself finds the pattern it is looking for.
    assert list(_robust_on_commit_with_partial(ast.parse("transaction.on_commit(partial(f, 1), robust=True)"))) == [1]


# --- durability is real --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("service", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_entry_point_refuses_to_run_inside_another_transaction(service):
    # Django exempts only a block opened directly inside the test case's own transaction, so
    # this holds in a plain database test too. The durable block is entered before the
    # service reads its arguments.
    with transaction.atomic():
        with pytest.raises(RuntimeError, match=NESTED_DURABLE):
            service()
    assert callable(service.nested)


@pytest.mark.django_db(transaction=True)
def test_a_submit_inside_a_caller_transaction_raises_and_changes_nothing(draft_appeal, enterprise_admin):
    with pytest.raises(RuntimeError, match=NESTED_DURABLE):
        with transaction.atomic():
            appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    assert Appeal.objects.get(pk=draft_appeal.pk).state == AppealState.DRAFT


@pytest.mark.django_db
def test_with_block_entry_points_are_durable_too(draft_appeal, enterprise_admin):
    """Services that open their durable block after checking their input."""
    with transaction.atomic():
        with pytest.raises(RuntimeError, match=NESTED_DURABLE):
            verification_services.verification_check_code(appeal=draft_appeal, code="123456", by=enterprise_admin)
        with pytest.raises(RuntimeError, match=NESTED_DURABLE):
            verification_services.verification_confirm_email(token="not-a-token")
        with pytest.raises(RuntimeError, match=NESTED_DURABLE):
            auto_resolution.appeal_auto_resolve(appeal=draft_appeal)
        with pytest.raises(RuntimeError, match=NESTED_DURABLE):
            outbox.message_deliver(message_id=0)


@pytest.mark.django_db(transaction=True)
def test_nested_form_joins_the_callers_transaction_and_rolls_back_with_it(account, enterprise_admin):
    """appeal_file composes incident_create.nested and appeal_create.nested: a refused appeal
    leaves no orphan incident behind."""
    with pytest.raises(ValidationFailed):
        filing.appeal_file(by=enterprise_admin, account=account, banned_at=timezone.now() - timedelta(hours=1),
                           kind="short_ban", reason="unknown", notice_text="", statement="", contact_phone="13812345678")
    assert not BanIncident.objects.exists()

    appeal = filing.appeal_file(by=enterprise_admin, account=account, banned_at=timezone.now() - timedelta(hours=1),
                                kind="short_ban", reason="unknown", notice_text="", statement="Please lift the ban.",
                                contact_phone="13812345678")
    assert Appeal.objects.get(pk=appeal.pk).incident_id == BanIncident.objects.get().pk


# --- on_commit work runs after the outermost commit ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delivery_is_published_only_after_the_submit_commits(
    draft_appeal, enterprise_admin, production_intake, surge_on_one_submission, private_delivery_queue,
):
    state_elsewhere = []

    def probe():
        # Registered after the submit's own callbacks, so it runs after them.
        state_elsewhere.append(_seen_from_another_connection(lambda: Appeal.objects.get(pk=draft_appeal.pk).state))
        state_elsewhere.append(sorted(private_delivery_queue()))

    with transaction.atomic(durable=True):  # the shape of an entry point composing .nested calls
        appeal_services.appeal_submit.nested(appeal=draft_appeal, by=enterprise_admin)
        assert connection.run_on_commit, "the submit registered its after-commit work"
        transaction.on_commit(probe)
        # Inside: nothing is published and no other session sees the submission.
        assert private_delivery_queue() == []
        assert _seen_from_another_connection(lambda: Appeal.objects.get(pk=draft_appeal.pk).state) == AppealState.DRAFT

    messages = sorted(Message.objects.filter(appeal=draft_appeal).values_list("pk", flat=True))
    assert len(messages) == 2
    # When the callbacks ran, the commit was visible to others and the deliveries were published.
    assert state_elsewhere == [AppealState.SUBMITTED, messages]
    assert SurgeAlert.objects.exists()  # the surge check, also after commit, saw the counted submission


@pytest.fixture
def after_commit_probe():
    """A workflow listener (registered last, so its on_commit callback is queued after those of
    the outbox and the surge check) that records, when the callbacks run, what a second
    database connection sees."""
    seen = []
    checks = []

    def listener(appeal, transition, by, event):
        transaction.on_commit(lambda: seen.append({name: check(appeal.pk) for name, check in checks}))

    workflow.register_listener(listener)
    yield seen, checks
    workflow._listeners.remove(listener)


@pytest.mark.django_db(transaction=True)
def test_the_entry_points_callbacks_run_after_its_commit_in_registration_order(
    draft_appeal, enterprise_admin, production_intake, surge_on_one_submission, private_delivery_queue, after_commit_probe,
):
    seen, checks = after_commit_probe
    checks.append(("state elsewhere", lambda pk: _seen_from_another_connection(lambda: Appeal.objects.get(pk=pk).state)))
    checks.append(("published", lambda pk: len(private_delivery_queue())))
    checks.append(("surge alert open", lambda pk: SurgeAlert.objects.exists()))

    appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)

    # By the time the probe ran, the submit was visible to other sessions, and the callbacks
    # queued before it (outbox deliveries, the surge check) had run after that commit.
    assert seen == [{"state elsewhere": AppealState.SUBMITTED, "published": 2, "surge alert open": True}]


def test_requests_are_not_wrapped_in_a_transaction(settings):
    """ATOMIC_REQUESTS would put every view inside a transaction, and every entry point it
    calls would refuse to run (the page and API tests above would fail with RuntimeError)."""
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is False
