"""/metrics: the Prometheus text format, request and query figures by view, the domain's gauges,
and who may read it under production settings."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from prometheus_client.parser import text_string_to_metric_families

from appeals.models import AppealState, Message, MessageState
from appeals.ops import store
from appeals.ops.tasks import ops_appeal_state_counts
from appeals.sla.models import AppealSla
from appeals.surge.models import SurgeAlert
from tests import factories
from tests.ops.conftest import refused_port

ROOT = Path(__file__).resolve().parent.parent.parent


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_latencies_and_queries_are_counted_by_view(client, enterprise_admin, draft_appeal):
    _token, token_key = AuthToken.objects.create(user=enterprise_admin)
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")
    queries = []  # the test's own count (CaptureQueriesContext's log is reset by request_started)
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        assert client.get("/api/v1/appeals/", HTTP_AUTHORIZATION=f"Token {token_key}").status_code == 200
    after = scrape(client)

    assert value(after, "django_http_requests_total", view="healthz", method="GET", status="200") - \
        value(before, "django_http_requests_total", view="healthz", method="GET", status="200") == 2
    assert value(after, "django_http_requests_total", view="<unresolved>", method="GET", status="404") - \
        value(before, "django_http_requests_total", view="<unresolved>", method="GET", status="404") == 1
    assert value(after, "django_http_request_duration_seconds_count", view="appeal-list", method="GET") - \
        value(before, "django_http_request_duration_seconds_count", view="appeal-list", method="GET") == 1
    assert value(after, "django_http_request_duration_seconds_sum", view="appeal-list", method="GET") > \
        value(before, "django_http_request_duration_seconds_sum", view="appeal-list", method="GET")
    # Every query the list ran, and no more, is counted against its view.
    assert len(queries) > 0
    assert value(after, "django_db_queries_total", view="appeal-list", database="default") - \
        value(before, "django_db_queries_total", view="appeal-list", database="default") == len(queries)
    assert value(after, "django_db_queries_per_request_count", view="appeal-list") - \
        value(before, "django_db_queries_per_request_count", view="appeal-list") == 1


def test_domain_gauges_read_the_tables(client, submitted_appeal, enterprise_admin, first_reviewer):
    now = timezone.now()
    for _ in range(2):
        factories.AppealFactory(filed_by=enterprise_admin)  # two drafts
    # The outbox: one queued an hour ago, one sending, one sent (not backlog).
    def message(state, age):
        m = Message.objects.create(idempotency_key=f"ops-{state}-{age}", channel="sms", recipient="13800000000",
                                   template="verification_code", state=state)
        Message.objects.filter(pk=m.pk).update(created_at=now - timedelta(seconds=age))
    message(MessageState.QUEUED, 3600)
    message(MessageState.SENDING, 60)
    message(MessageState.SENT, 7200)
    for state, resolved, platform in (("open", None, "wecom"), ("acknowledged", None, "dingtalk"), ("resolved", now, "wecom")):
        SurgeAlert.objects.create(dimension="platform", value=platform, window_minutes=10, window_start=now, count=40, usual=7.0,
                                  floor=20, factor=3.0, opened_at=now, state=state, resolved_at=resolved)
    # SLA clocks: one past due, one past its warning point, one fine, one past due but closed.
    for warn, due, closed in ((-7200, -60, None), (-60, 3600, None), (3600, 7200, None), (-7200, -60, now)):
        appeal = factories.AppealFactory(filed_by=enterprise_admin)
        AppealSla.objects.create(appeal=appeal, enterprise=appeal.enterprise, severity="minor", submitted_at=now,
                                 started_at=now, running_since=now, warn_at=now + timedelta(seconds=warn),
                                 due_at=now + timedelta(seconds=due), closed_at=closed)

    samples = scrape(client)
    assert value(samples, "appeals_by_state", state=AppealState.DRAFT) == 6
    assert value(samples, "appeals_by_state", state=AppealState.FIRST_REVIEW) == 1
    assert value(samples, "appeals_by_state", state=AppealState.APPROVED) == 0
    assert ("appeals_by_state", (("state", "approved"),)) in samples  # every state is exported
    queued_before = Message.objects.filter(state=MessageState.QUEUED).count()
    assert value(samples, "appeals_outbox_backlog", state="queued") == queued_before
    assert value(samples, "appeals_outbox_backlog", state="sending") == 1
    assert 3590 <= value(samples, "appeals_outbox_oldest_pending_age_seconds") <= 3700
    assert value(samples, "appeals_surge_alerts_open", state="open") == 1
    assert value(samples, "appeals_surge_alerts_open", state="acknowledged") == 1
    assert value(samples, "appeals_sla_breached") == 1
    assert value(samples, "appeals_sla_about_to_breach") == 1
    assert all(value(samples, "appeals_metrics_errors", figure=f) == 0 for f in
               ("appeals_by_state", "outbox", "surge", "sla", "task_failures", "worker_heartbeat"))


def test_appeals_by_state_is_a_snapshot_the_beat_task_refreshes(client, enterprise_admin, draft_appeal):
    assert value(scrape(client), "appeals_by_state", state="draft") == 1  # first scrape takes it inline
    factories.AppealFactory(filed_by=enterprise_admin)
    samples = scrape(client)
    assert value(samples, "appeals_by_state", state="draft") == 1  # still the snapshot
    assert 0 <= value(samples, "appeals_by_state_snapshot_age_seconds") < 60
    assert ops_appeal_state_counts.apply().get()["draft"] == 2
    assert value(scrape(client), "appeals_by_state", state="draft") == 2


def test_a_dead_redis_leaves_the_database_figures_and_says_what_is_missing(client, db, settings, draft_appeal):
    ops_appeal_state_counts()
    settings.REDIS_URL = f"redis://127.0.0.1:{refused_port()}/7"
    samples = scrape(client)
    assert value(samples, "appeals_metrics_errors", figure="task_failures") == 1
    # The snapshot lives in Redis too; a full count on every scrape instead would be slow at scale.
    assert value(samples, "appeals_metrics_errors", figure="appeals_by_state") == 1
    assert ("appeals_by_state", (("state", "draft"),)) not in samples
    assert value(samples, "appeals_metrics_errors", figure="sla") == 0
    assert ("appeals_sla_breached", ()) in samples


def test_under_auth_metrics_need_the_token_or_an_allowed_network(client, db, settings):
    settings.METRICS_REQUIRE_AUTH = True
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.METRICS_ALLOWED_NETWORKS = []
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16", "127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200  # the test client's REMOTE_ADDR is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 403


def test_production_settings_protect_metrics_and_exempt_probes_from_the_https_redirect():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "TEST_DB_NAME"}}
    env.update({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "appeals.example.com"})
    probe = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "--settings=config.settings.production", "-c",
         "from django.conf import settings as s; from django.test import Client; c = Client(HTTP_HOST='appeals.example.com');"
         "print(s.METRICS_REQUIRE_AUTH, c.get('/metrics').status_code, c.get('/healthz').status_code)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert probe.stdout.split() == ["True", "403", "200"], probe.stdout + probe.stderr


@pytest.mark.parametrize("path", ["/metrics", "/readyz", "/healthz"])
def test_only_safe_methods(client, db, path):
    assert client.post(path).status_code == 405


def test_heartbeat_age_is_exported(client, db):
    store.beat("w1", at=timezone.now().timestamp() - 30)
    samples = scrape(client)
    assert 29 <= value(samples, "appeals_worker_heartbeat_age_seconds") < 40
    assert value(samples, "appeals_workers_seen") == 1


def test_multiprocess_mode_sums_the_request_counts_of_every_process(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR shared by several server processes: a scrape served by one
    process reports the requests another one served (prometheus_client's multiprocess mode)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})

    def run(code):
        result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c",
                                 "from django.test import Client; c = Client(HTTP_HOST='127.0.0.1'); " + code],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("[c.get('/healthz') for _ in range(3)]")
    run("[c.get('/healthz') for _ in range(2)]")
    scrape = run("print(c.get('/metrics').content.decode())")
    assert 'django_http_requests_total{method="GET",status="200",view="healthz"} 5.0' in scrape, scrape[:3000]
