"""/healthz and /readyz against the real services: PostgreSQL, Redis, a real Celery worker (its
heartbeat), moto's S3 server, a refused Redis port and a Redis that accepts but never answers."""

import socket
import time

import boto3
import pytest
from moto.server import ThreadedMotoServer

from appeals.ops import store
from config.settings.base import evidence_s3_storage
from tests.conftest import wait_for
from tests.ops.conftest import refused_port


def ready(client):
    started = time.perf_counter()
    response = client.get("/readyz")
    return response, response.json(), time.perf_counter() - started


def test_healthz_answers_without_touching_the_database_or_redis(client, settings):
    # No `db` fixture: any query would fail this test; a dead Redis must not matter either.
    settings.REDIS_URL = f"redis://127.0.0.1:{refused_port()}/7"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}}
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.worker
def test_ready_with_a_live_worker_and_not_ready_once_it_stops(client, ops_worker):
    response, body, _ = ready(client)
    # Until the worker is up and has beaten once, only the worker is missing.
    if response.status_code == 503:
        assert body["failed"] == ["worker"], body
    response = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r, timeout=60, interval=0.3)
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "storage", "worker"}
    assert all(c["ok"] for c in body["checks"].values())
    assert any(h.startswith("ops-test-") for h in store.heartbeats())

    ops_worker.stop()  # a clean shutdown removes the worker's entry at once
    assert not any(h.startswith("ops-test-") for h in store.heartbeats())
    # The suite's session worker (when an earlier test started it) beats into the same Redis:
    # leave this check with no worker at all.
    for hostname in store.heartbeats():
        store.forget(hostname)
    response, body, _ = ready(client)
    assert response.status_code == 503
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "CheckFailed: no worker heartbeat seen"


def _own_heartbeat():
    """This test's worker has beaten (the suite's session worker may have beaten before it)."""
    wait_for(lambda: any(h.startswith("ops-test-") for h in store.heartbeats()), timeout=60, interval=0.3)


@pytest.mark.worker
def test_a_killed_worker_is_noticed_when_its_heartbeat_grows_old(client, ops_worker, settings):
    _own_heartbeat()
    assert client.get("/readyz").status_code == 200
    ops_worker.stop(sig="kill")  # no shutdown signal: the entry stays and ages
    for hostname in store.heartbeats():  # only this worker's entry: not the suite's session worker
        if not hostname.startswith("ops-test-"):
            store.forget(hostname)
    settings.OPS = {**settings.OPS, "WORKER_HEARTBEAT_MAX_AGE": 1.5}
    time.sleep(2.0)
    response, body, _ = ready(client)
    assert response.status_code == 503 and body["failed"] == ["worker"]
    assert "old (limit 2 s)" in body["checks"]["worker"]["error"]


@pytest.mark.worker
def test_task_failures_are_counted_by_task_across_processes(client, ops_worker):
    from config.celery import app

    _own_heartbeat()
    # A real failure in the worker process: the task refuses arguments it does not take.
    for _ in range(2):
        app.send_task("appeals.tasks.ops_appeal_state_counts", args=[1, 2, 3], queue=ops_worker.queue)
    counts = wait_for(lambda: (f := store.failures()).get("appeals.tasks.ops_appeal_state_counts", 0) >= 2 and f, timeout=30)
    assert counts == {"appeals.tasks.ops_appeal_state_counts": 2}
    scrape = client.get("/metrics").content.decode()
    assert 'appeals_task_failures_total{task="appeals.tasks.ops_appeal_state_counts"} 2.0' in scrape


def test_dead_redis_fails_cache_and_broker_fast_with_json(client, db, settings):
    dead = f"redis://127.0.0.1:{refused_port()}/7"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = dead
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    response, body, elapsed = ready(client)
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert {"cache", "broker"} <= set(body["failed"])
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert "onnection" in body["checks"]["cache"]["error"] and "onnection" in body["checks"]["broker"]["error"]
    assert elapsed < 2.0


def test_a_redis_that_never_answers_cannot_hang_the_probe(client, db, settings):
    """A listening socket that never replies (a black-holed server): each probe has its deadline."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/7"
        settings.REDIS_URL = settings.CELERY_BROKER_URL = url
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
        settings.OPS = {**settings.OPS, "CHECK_TIMEOUT_SECONDS": 1.0}
        response, body, elapsed = ready(client)
    assert response.status_code == 503
    assert {"cache", "broker"} <= set(body["failed"])
    assert body["checks"]["cache"]["error"] == "no answer within 1 s"
    assert elapsed < 2.5


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_storage_on_s3_is_ready_only_while_its_bucket_answers(client, db, settings, s3_endpoint):
    keys = {"access_key": "testing-key", "secret_key": "testing-secret"}
    config = evidence_s3_storage(bucket="ops-readyz", endpoint_url=s3_endpoint, **keys)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=keys["access_key"],
                      aws_secret_access_key=keys["secret_key"])
    s3.create_bucket(Bucket="ops-readyz")
    settings.STORAGES = {**settings.STORAGES, "evidence": config}
    # The first check builds the S3 client (botocore loads its service models): past the 2 s
    # default on a loaded CI machine once (KeyError 'ms': the check had timed out). What a
    # timeout does is tested above; here only whether the bucket answers.
    settings.OPS = {**settings.OPS, "CHECK_TIMEOUT_SECONDS": 15.0}
    store.beat("test-worker")  # the worker part is covered above; here only storage matters
    response, body, _ = ready(client)
    assert body["checks"]["storage"] == {"ok": True, "detail": "ok", "ms": body["checks"]["storage"].get("ms")}, body
    assert response.status_code == 200, body

    s3.delete_bucket(Bucket="ops-readyz")
    response, body, _ = ready(client)
    assert response.status_code == 503 and body["failed"] == ["storage"]
    assert "404" in body["checks"]["storage"]["error"] or "Not Found" in body["checks"]["storage"]["error"]


def test_a_dead_broker_alone_is_named_alone(client, db, settings):
    store.beat("test-worker")
    assert client.get("/readyz").status_code == 200
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{refused_port()}/7"
    response, body, _ = ready(client)
    assert response.status_code == 503 and body["failed"] == ["broker"], body
