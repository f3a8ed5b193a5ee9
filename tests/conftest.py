"""Shared fixtures: named personas, a case at each stage, and a real Celery worker."""

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import caches
from django.utils import translation
from rest_framework.throttling import SimpleRateThrottle

from appeals.core.services import appeals as appeal_services
from appeals.notifications import sms
from appeals.surge.policy import forget_policy
from tests import builders, factories

ROOT = Path(__file__).resolve().parent.parent


# --- personas ---------------------------------------------------------------------------


@pytest.fixture
def enterprise(db):
    return factories.EnterpriseFactory(name="上海晨光贸易有限公司")


@pytest.fixture
def other_enterprise(db):
    return factories.EnterpriseFactory(name="Foreign Co")


@pytest.fixture
def enterprise_admin(enterprise):
    return factories.UserFactory(username="admin-a", enterprise=enterprise)


@pytest.fixture
def other_admin(other_enterprise):
    return factories.UserFactory(username="admin-b", enterprise=other_enterprise)


@pytest.fixture
def first_reviewer(db):
    return factories.UserFactory(username="reviewer-1", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)


@pytest.fixture
def second_reviewer(db):
    return factories.UserFactory(username="reviewer-2", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)


@pytest.fixture
def manager(db):
    return factories.UserFactory(username="manager", is_manager=True, is_staff=True)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def account(enterprise):
    return factories.AccountFactory(enterprise=enterprise)


@pytest.fixture
def incident(account, enterprise_admin):
    return factories.IncidentFactory(account=account, created_by=enterprise_admin)


# --- a case at each stage -------------------------------------------------------------------


@pytest.fixture
def draft_appeal(incident, enterprise_admin):
    return appeal_services.appeal_create(
        by=enterprise_admin, incident=incident, statement="We did not spam; please lift the ban.", contact_phone="13812345678"
    )


@pytest.fixture
def complete_draft(draft_appeal, enterprise_admin):
    """A draft carrying one valid file for every kind the completeness checklist asks for."""
    builders.attach_required_evidence(draft_appeal, enterprise_admin)
    return draft_appeal


@pytest.fixture
def submitted_appeal(draft_appeal, enterprise_admin):
    """Submitted past every intake guard and waiting in the first-review queue: evidence
    complete, SMS code and email link delivered through the outbox and answered."""
    return builders.submitted_appeal(draft_appeal, enterprise_admin)


@pytest.fixture
def claimed_appeal(submitted_appeal, first_reviewer):
    return appeal_services.appeal_claim(appeal=submitted_appeal, by=first_reviewer)


@pytest.fixture
def second_review_appeal(claimed_appeal, first_reviewer):
    return appeal_services.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="approve")


# --- the production configuration, and the explicit way out of it -----------------------------


@pytest.fixture
def intake_guards_off(settings):
    """For a test about the workflow alone (the transition table, its events): this one test
    submits without evidence and skips the two verification proofs. Every other test runs with
    the guards the production settings have; build a satisfying case with tests/builders.py."""
    settings.VERIFICATION = {**settings.VERIFICATION, "REQUIRED": False}
    settings.EVIDENCE = {**settings.EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": False}


RELAXED_THROTTLE_RATE = "100000/min"


@pytest.fixture
def relaxed_throttles(settings, monkeypatch):
    """For a test that must send more API requests in a minute than any real client may (a
    fuzzer, a load or concurrency test): this one test gets every rate limit (anon, user,
    token) raised to RELAXED_THROTTLE_RATE. The throttles still run and count; they just never
    refuse. Every other test meets the production rates of config/settings/base.py
    (tests/api/test_auth_and_docs.py checks that they are in force).

    Both places the rates live are set: the setting (DRF's api_settings reloads on
    setting_changed) and SimpleRateThrottle.THROTTLE_RATES, the class attribute DRF copies from
    api_settings once, at import, and every throttle class (appeals.shared.throttling's too)
    reads. pytest-django and monkeypatch put both back after the test."""
    rates = {scope: RELAXED_THROTTLE_RATE for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


_SEED_OUTCOME_CODES = importlib.import_module("appeals.migrations.0024_outcome_codes").seed


@pytest.fixture(autouse=True)
def outcome_code_catalogue(request):
    """The outcome codes migration 0024 seeds, present in every test that uses the database:
    a transactional test (a live server, a real worker) flushes tables, and migration data with
    them, when it ends."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool({"transactional_db", "live_server"} & names)
    if not (marker or transactional or "db" in names):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not django_apps.get_model("appeals", "OutcomeCode").objects.exists():
        _SEED_OUTCOME_CODES(django_apps, None)
    yield
    if transactional and builders.session_worker_running:
        # Let the session's worker finish what this test queued before the tables are flushed
        # (a TRUNCATE waiting on a worker's transaction fails the flush, and the next test).
        Message = django_apps.get_model("appeals", "Message")
        LogAnalysis = django_apps.get_model("appeals", "LogAnalysis")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
            Message.objects.filter(state__in=("queued", "sending")).exists()
            or LogAnalysis.objects.filter(status__in=("pending", "running")).exists()
        ):
            time.sleep(0.1)


@pytest.fixture(autouse=True)
def clean_shared_state():
    """Each test starts from a clean Redis and clean in-process state, whatever ran before it.

    Deletes every key of the test Redis database except the Celery broker's own (its queues,
    bindings and unacknowledged messages: a session worker listens on the same database, and
    Django's cache.clear() would be a FLUSHDB under it). That takes the Django cache (the
    emergency flag, throttles) and the surge counters with it.
    """
    _reset_redis()
    for cache in caches.all(initialized_only=True):
        if not cache.__class__.__name__.startswith("Redis"):
            cache.clear()
    forget_policy()
    sms.outbox.clear()
    shutil.rmtree(settings.SMS_FILE_PATH, ignore_errors=True)
    # A request through LocaleMiddleware leaves its language active in the thread.
    translation.deactivate()
    yield
    sms.outbox.clear()
    translation.deactivate()


_BROKER_KEY_MARKERS = ("_kombu.", "unacked")


def _reset_redis() -> None:
    if not settings.REDIS_URL:
        return
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        keys = list(client.scan_iter(count=1000))
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.type(key)
            types = pipe.execute()
        doomed = [
            key for key, kind in zip(keys, types, strict=True)
            # Broker queues are lists; nothing of the application's is.
            if kind != b"list" and not any(marker in key.decode(errors="replace") for marker in _BROKER_KEY_MARKERS)
        ]
        for start in range(0, len(doomed), 1000):
            client.delete(*doomed[start : start + 1000])


# --- a real Celery worker ---------------------------------------------------------------------


@pytest.fixture
def private_broker_queue(request, settings):
    """A notifications queue and broker key prefix of this test module's own, as (queue, prefix)
    (tests/verification/workers.py `private_broker`), for tests that start their own workers."""
    from tests.verification.workers import private_broker

    with private_broker(settings, request.module.__name__.removeprefix("tests.").replace(".", "-")) as pair:
        yield pair


@pytest.fixture
def queue(private_broker_queue):
    """The private queue's name: what the test's own workers consume."""
    return private_broker_queue[0]


@pytest.fixture
def broker_prefix(private_broker_queue):
    """The private broker key prefix: give it to the test's workers as CELERY_BROKER_KEYPREFIX."""
    return private_broker_queue[1]


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on 127.0.0.1 (ephemeral port); the celery_worker process mails to it."""
    from tests.smtp import LoopbackSMTP

    server = LoopbackSMTP()
    builders.worker_mailbox = server.messages
    yield server
    builders.worker_mailbox = []
    server.stop()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, smtp_server):
    """A real `celery worker` process consuming from the test Redis, writing to the test database.

    Tests that use it need committed data: mark them `@pytest.mark.django_db(transaction=True)`.
    Its Django mail goes over SMTP to `smtp_server` (read `smtp_server.messages`).
    """
    from config.celery import app

    db_name = settings.DATABASES["default"]["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_WORKER_DATABASE_NAME": db_name,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        # SMS as JSON files the tests can read back (tests/builders.py: last_sms_code).
        "SMS_BACKEND": "appeals.notifications.sms.backends.filebased.SmsBackend",
        "SMS_FILE_PATH": settings.SMS_FILE_PATH,
    }
    with django_db_blocker.unblock():
        app.control.purge()
    log = open(ROOT / f".celery-worker-{db_name}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{db_name}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited early; see {log.name}")
        if app.control.ping(timeout=0.5):
            break
    else:
        proc.kill()
        raise RuntimeError("celery worker did not answer a ping within 60 s")
    builders.session_worker_running = True
    yield proc
    builders.session_worker_running = False
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def celery_worker(celery_worker_process, transactional_db):
    """The session's worker, drained after each test: its teardown runs before the database
    flush, so a task still running from this test never races the next test's TRUNCATE."""
    yield celery_worker_process
    from django.conf import settings as dj

    from config.celery import app

    broker = redis.Redis.from_url(dj.CELERY_BROKER_URL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        inspect = app.control.inspect(timeout=1)
        # Retries wait in the worker with an ETA ("scheduled"): the test is over, so they are
        # revoked rather than left to wake up during the next test's TRUNCATE.
        scheduled = [s["request"]["id"] for tasks in (inspect.scheduled() or {}).values() for s in tasks]
        if scheduled:
            app.control.revoke(scheduled)
        busy = [inspect.active() or {}, inspect.reserved() or {}]
        if broker.llen("celery") == 0 and not any(any(d.values()) for d in busy):
            break
        time.sleep(0.2)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy (for effects a worker process produces)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
