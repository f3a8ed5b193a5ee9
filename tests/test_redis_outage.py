"""A Redis outage degrades the desk, it never takes it down (issue 10, item 1).

Redis is both the cache (throttles, sign-in counters, the surge flag) and the Celery broker.
These tests point the whole application at a Redis of their own, never the machine's shared
one: a port where nothing listens, and a `redis-server` the test starts, stops mid-test and
starts again on the same port. Every request the desk serves (sign-in page, sign-in, token
sign-in, API calls, the case page, submit) must answer without a 5xx while Redis is away;
submissions commit and their messages wait in the outbox; once Redis is back the sweeper
publishes them and a real worker delivers each exactly once.
"""

import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.models import Appeal, AppealState, Message, MessageState
from appeals.notifications.outbox import outbox_sweep
from tests import builders, factories
from tests.conftest import wait_for
from tests.smtp import LoopbackSMTP
from tests.verification.servers import FakeAlibabaSms
from tests.verification.workers import Worker, reset_broker_pools

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

PASSWORD = "demo-pass-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own on a free port (no persistence), stoppable."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc = None

    def start(self) -> "OwnRedis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._pings(client), timeout=10, interval=0.05)
        client.close()
        return self

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_at(settings):
    """Point this process's cache, surge counters and Celery broker at `url`."""
    from config.celery import app

    original_broker = app.conf.broker_url

    def point(url: str, queue: str) -> None:
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}  # the configured backend
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "QUEUE": queue}
        reset_broker_pools()
        app.conf.broker_url = url

    yield point
    reset_broker_pools()
    app.conf.broker_url = original_broker


@pytest.fixture
def provider():
    server = FakeAlibabaSms().start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = LoopbackSMTP()
    yield server
    server.stop()


class Desk:
    """Drives the desk the way its users do, counting every response and every 5xx."""

    def __init__(self, admin, reviewer):
        self.admin, self.reviewer = admin, reviewer
        self.requests = 0
        self.errors: list[tuple[str, int]] = []
        self.slowest = 0.0

    def _seen(self, label: str, response, started: float):
        self.requests += 1
        self.slowest = max(self.slowest, time.monotonic() - started)
        if response.status_code >= 500:
            self.errors.append((label, response.status_code))
        return response

    def call(self, label, fn, *args, **kwargs):
        started = time.monotonic()
        return self._seen(label, fn(*args, **kwargs), started)

    def round(self, draft: Appeal) -> Appeal:
        """One of everything: sign-in page and sign-in, token sign-in, API reads, the case page
        as its applicant and as a reviewer, the queues, then submit `draft` through the API."""
        web = Client(raise_request_exception=False)
        self.call("login page", web.get, "/login/")
        r = self.call("login", web.post, "/login/", {"username": self.admin.username, "password": PASSWORD})
        assert r.status_code == 302, r.status_code
        self.call("wrong password", Client(raise_request_exception=False).post, "/login/", {"username": self.admin.username, "password": "nope"})
        self.call("home", web.get, "/")
        self.call("appeal list", web.get, "/appeals/")
        r = self.call("case page", web.get, f"/appeals/{draft.reference}/")
        assert r.status_code == 200, r.status_code

        api = APIClient(raise_request_exception=False)
        r = self.call("token", api.post, "/api/v1/auth/token/", {"username": self.admin.username, "password": PASSWORD}, format="json")
        assert r.status_code == 200, r.content
        api.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
        self.call("api appeals", api.get, "/api/v1/appeals/")
        self.call("api appeal", api.get, f"/api/v1/appeals/{draft.reference}/")
        self.call("api timeline", api.get, f"/api/v1/appeals/{draft.reference}/timeline/")
        self.call("api incidents", api.get, "/api/v1/incidents/")
        self.call("anonymous api", APIClient(raise_request_exception=False).get, "/api/v1/appeals/")

        staff = Client(raise_request_exception=False)
        staff.force_login(self.reviewer)
        self.call("first queue", staff.get, "/queues/first/")
        self.call("reviewer case page", staff.get, f"/appeals/{draft.reference}/")

        r = self.call("evidence upload", api.post, f"/api/v1/appeals/{draft.reference}/evidence/",
                      {"kind": "other", "file": builders.evidence_file("ban_notice")}, format="multipart")
        assert r.status_code == 201, r.content
        r = self.call("submit", api.post, f"/api/v1/appeals/{draft.reference}/submit/", format="json")
        assert r.status_code == 200, r.content
        self.call("case page after submit", web.get, f"/appeals/{draft.reference}/")
        return Appeal.objects.get(pk=draft.pk)


def _drafts(enterprise, admin, n: int) -> list[Appeal]:
    from appeals.core.services import appeals as appeal_services

    drafts = []
    for i in range(n):
        account = factories.AccountFactory(enterprise=enterprise)
        incident = factories.IncidentFactory(account=account, created_by=admin)
        draft = appeal_services.appeal_create(by=admin, incident=incident, statement=f"Case {i}: please lift the ban.",
                                              contact_phone="13812345678")
        builders.attach_required_evidence(draft, admin)
        drafts.append(draft)
    return drafts


def _delivered_once(messages, provider: FakeAlibabaSms, smtp: LoopbackSMTP) -> dict:
    """How many times each message reached its provider (the SMS API, the SMTP server)."""
    sms_seen = Counter(s.get("OutId") for s in provider.sent)
    mail_seen = Counter(m["message"]["X-Appeal-Desk-Message"] for m in smtp.messages)
    return {m.idempotency_key: sms_seen[m.idempotency_key] + mail_seen[m.idempotency_key] for m in messages}


def _worker(queue: str, url: str, smtp: LoopbackSMTP, provider: FakeAlibabaSms) -> Worker:
    return Worker(queue=queue, tag="redis-outage", extra_env={
        "REDIS_URL": url,
        "CELERY_BROKER_URL": url,
        "SMS_BACKEND": "appeals.notifications.sms.backends.alibaba.SmsBackend",
        "ALIBABA_SMS_ENDPOINT": provider.endpoint,
        "ALIBABA_SMS_ACCESS_KEY_ID": provider.KEY_ID,
        "ALIBABA_SMS_ACCESS_KEY_SECRET": provider.SECRET,
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        # This worker's Redis goes away and comes back: reconnect quickly.
        "CELERY_BROKER_KEYPREFIX": "",
    })


def _report(label: str, desk: Desk, delivered: int | None = None) -> None:
    print(f"\n[redis-outage] {label}: requests={desk.requests} 5xx={len(desk.errors)} slowest={desk.slowest:.3f}s"
          + (f" delivered_after_recovery={delivered}" if delivered is not None else ""))


def test_refused_redis_url_serves_every_page_and_commits_submit(redis_at, enterprise, enterprise_admin, first_reviewer):
    """REDIS_URL points at a port where nothing listens: no 5xx, submit commits, messages queued."""
    port = _free_port()
    redis_at(f"redis://127.0.0.1:{port}/0", queue=f"outage-refused-{port}")
    drafts = _drafts(enterprise, enterprise_admin, 2)
    desk = Desk(enterprise_admin, first_reviewer)
    submitted = [desk.round(d) for d in drafts]
    _report("refused URL", desk)
    assert desk.errors == []
    assert [a.state for a in submitted] == [AppealState.SUBMITTED] * 2
    rows = Message.objects.filter(appeal__in=submitted)
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "email", "sms", "sms"]
    assert set(rows.values_list("state", flat=True)) == {MessageState.QUEUED}
    assert desk.slowest < 5, "a dead Redis must cost milliseconds, not seconds"


def test_redis_stopped_mid_test_then_back_nothing_lost_nothing_doubled(redis_at, enterprise, enterprise_admin, first_reviewer, smtp,
                                                                       provider):
    port = _free_port()
    own = OwnRedis(port).start()
    queue = f"outage-{port}"
    redis_at(own.url, queue=queue)
    worker = _worker(queue, own.url, smtp, provider).start()
    try:
        up_before, down_1, down_2, up_after = _drafts(enterprise, enterprise_admin, 4)
        desk = Desk(enterprise_admin, first_reviewer)

        # Redis up: delivered straight away by the worker.
        first = desk.round(up_before)
        wait_for(lambda: set(Message.objects.filter(appeal=first).values_list("state", flat=True)) == {MessageState.SENT}, timeout=30)

        # Redis stopped mid-test: the desk keeps serving; the submits commit, their messages wait.
        own.stop()
        before_down = desk.requests
        down = [desk.round(down_1), desk.round(down_2)]
        made_while_down = desk.requests - before_down
        assert desk.errors == [], desk.errors
        assert [a.state for a in down] == [AppealState.SUBMITTED] * 2
        stranded = Message.objects.filter(appeal__in=down)
        assert stranded.count() == 4
        assert set(stranded.values_list("state", flat=True)) == {MessageState.QUEUED}
        # The sweeper while Redis is still away: publishes nothing, raises nothing.
        assert outbox_sweep(now=timezone.now() + timedelta(minutes=5)) == 0

        # Redis back on the same port (empty: no persistence). The worker reconnects by itself.
        own.start()
        last = desk.round(up_after)
        assert desk.errors == [], desk.errors
        published = 0
        deadline = time.monotonic() + 60
        everything = Message.objects.filter(appeal__in=[first, *down, last])
        while time.monotonic() < deadline and set(everything.values_list("state", flat=True)) != {MessageState.SENT}:
            published += outbox_sweep(now=timezone.now() + timedelta(minutes=5))  # what beat runs every minute
            time.sleep(1.0)
        assert set(everything.values_list("state", flat=True)) == {MessageState.SENT}
        counts = _delivered_once(list(everything), provider, smtp)
        assert counts and set(counts.values()) == {1}, counts
        assert set(everything.values_list("attempts", flat=True)) == {1}
        after_recovery = sum(counts[m.idempotency_key] for m in stranded)
        _report("own redis stopped mid-test", desk, delivered=after_recovery)
        print(f"[redis-outage] while stopped: requests={made_while_down} submits=2 messages_stranded={stranded.count()}"
              f" sweeper_publishes_after_restart={published} all_messages={len(counts)} each_delivered_once={set(counts.values()) == {1}}")
        assert after_recovery == 4
        assert worker.proc.poll() is None
    finally:
        worker.stop()
        own.stop()


def test_throttles_keep_counting_while_redis_is_down(redis_at, enterprise_admin, monkeypatch):
    """Fail open to a safe fallback: the token throttle counts in local memory, not a free pass."""
    from appeals.core.api.views import TokenRateThrottle

    port = _free_port()
    redis_at(f"redis://127.0.0.1:{port}/0", queue=f"outage-throttle-{port}")
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    client = APIClient(raise_request_exception=False)
    codes = [client.post("/api/v1/auth/token/", {"username": "admin-a", "password": "nope"}, format="json").status_code
             for _ in range(5)]
    assert codes == [400, 400, 400, 429, 429]


def test_surge_counters_count_from_the_database_while_redis_is_down_and_rebuild_after(redis_at, intake_guards_off, draft_appeal,
                                                                                       enterprise_admin):
    from appeals.core.services import appeals as appeal_services
    from appeals.surge import services as surge
    from appeals.surge.counters import DatabaseCounts, FailOpenRedisCounts
    from appeals.surge.slices import minute_of

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_at(url, queue=f"outage-surge-{port}")
    appeal = appeal_services.appeal_submit(appeal=draft_appeal, by=enterprise_admin)  # counted after commit: Redis is down
    slices = surge.appeal_slices(appeal)
    ends = [minute_of(appeal.submitted_at)]
    counts = FailOpenRedisCounts(url)
    down = counts.window_sums(slices, ends, 10)
    assert down == DatabaseCounts().window_sums(slices, ends, 10)
    assert all(v == [1] for v in down.values())
    assert surge.surge_scan(now=appeal.submitted_at) is not None  # the beat task runs, from the database

    own = OwnRedis(port).start()
    try:
        # Back: the counters Redis never saw are rebuilt from the database before answering.
        assert counts.window_sums(slices, ends, 10) == down
        assert redis.Redis(port=port).exists(f"{counts.prefix}:built")
    finally:
        own.stop()
