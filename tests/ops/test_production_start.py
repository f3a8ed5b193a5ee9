"""The production start: scripts/serve.sh (check --deploy, migrate, collectstatic, gunicorn),
workers under the same settings that refuse DEBUG, the evidence bucket checked (or created)
at start-up, demo data never in a production database, key prefixes and connections."""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import psycopg
import pytest
from django.conf import settings
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from moto.server import ThreadedMotoServer

from config import environment
from config.settings.base import evidence_s3_storage
from tests import factories

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
KEYS = {"access_key": "testing-key", "secret_key": "testing-secret"}
# The environment of a process started from a clean shell (nothing of the test session's).
CLEAN = {k: v for k, v in os.environ.items()
         if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE", "TEST_DB_NAME", "DEBUG"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _production_env(**extra) -> dict:
    return {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(50), "FIELD_ENCRYPTION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", **extra}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _s3_client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEYS["access_key"],
                        aws_secret_access_key=KEYS["secret_key"])


def _bucket_exists(endpoint, bucket) -> bool:
    return bucket in [b["Name"] for b in _s3_client(endpoint).list_buckets().get("Buckets", [])]


def _s3_env(endpoint, bucket) -> dict:
    return {"EVIDENCE_S3_BUCKET": bucket, "EVIDENCE_S3_ENDPOINT_URL": endpoint,
            "EVIDENCE_S3_ACCESS_KEY_ID": KEYS["access_key"], "EVIDENCE_S3_SECRET_ACCESS_KEY": KEYS["secret_key"]}


# --- one settings module for every process; DEBUG refused under production -------------------------


def test_a_worker_refuses_to_start_with_debug_under_production_settings():
    env = _production_env(DEBUG="true", REDIS_URL=settings.REDIS_URL)
    result = subprocess.run([str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--without-gossip",
                             "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "DEBUG is on under config.settings.production: refusing to start" in result.stderr
    # manage.py (and so gunicorn's app) refuses the same way.
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "refusing to start" in result.stderr


def test_celery_manage_py_and_wsgi_read_the_settings_module_the_same_way(tmp_path, monkeypatch):
    probe = ("import os, sys; sys.argv=['x']; import {mod}; print(os.environ['DJANGO_SETTINGS_MODULE'])")
    for module in ("config.celery", "config.wsgi"):
        out = subprocess.run([sys.executable, "-c", probe.format(mod=module)], cwd=ROOT, capture_output=True, text=True,
                             env={**CLEAN, "DATABASE_URL": "sqlite:///:memory:"}, timeout=60)
        assert out.stdout.strip() == "config.settings.local", out.stderr
    out = subprocess.run([sys.executable, "-c", probe.format(mod="config.celery")], cwd=ROOT, capture_output=True, text=True,
                         env=_production_env(), timeout=60)
    assert out.stdout.strip() == "config.settings.production", out.stderr
    # From the project's .env when the environment does not say (as Django's other settings are read).
    dotenv = tmp_path / ".env"
    dotenv.write_text("SECRET_KEY=abc\nexport DJANGO_SETTINGS_MODULE='config.settings.production'\n")
    monkeypatch.setattr(environment, "DOTENV", dotenv)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    assert environment._from_dotenv(dotenv) == "config.settings.production"
    assert environment.use_settings_module() == "config.settings.production"
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.test")
    assert environment.use_settings_module() == "config.settings.test"


# --- demo data ------------------------------------------------------------------------------------


def test_seed_demo_refuses_production_settings(tmp_path):
    env = _production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    result = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "seed_demo refuses to run under these settings" in result.stderr
    assert "demo-pass" not in result.stdout


def test_seed_demo_refuses_a_database_with_real_users(db):
    factories.UserFactory(username="zhang.wei")
    with pytest.raises(CommandError, match="1 user\\(s\\) other than the demo ones"):
        call_command("seed_demo")
    from appeals.models import User

    assert not User.objects.filter(username="manager").exists()


# --- the evidence bucket at start-up ------------------------------------------------------------


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    def use(bucket):
        settings.STORAGES = {**settings.STORAGES,
                             "evidence": evidence_s3_storage(bucket=bucket, endpoint_url=s3_endpoint, **KEYS)}
        return bucket
    return use


def _startup_errors():
    found = checks.run_checks(tags=["evidence_storage"], include_deployment_checks=True)
    return [m for m in found if m.level >= checks.ERROR]


def test_a_missing_bucket_is_a_start_up_error_naming_it(s3_storage, s3_endpoint, settings):
    settings.AWS_AUTO_CREATE_BUCKET = False
    bucket = s3_storage(f"missing-{secrets.token_hex(4)}")
    (error,) = _startup_errors()
    assert error.id == "appeals.E501" and bucket in error.msg and "AWS_AUTO_CREATE_BUCKET" in error.msg
    assert not _bucket_exists(s3_endpoint, bucket)
    # The ordinary `check` (every manage.py command) does not talk to S3.
    assert not [m for m in checks.run_checks(include_deployment_checks=False) if m.id == "appeals.E501"]


def test_the_bucket_is_created_at_start_up_when_asked_then_uploads_work(s3_storage, s3_endpoint, settings, draft_appeal,
                                                                        enterprise_admin):
    from appeals.evidence import services
    from tests import builders

    settings.AWS_AUTO_CREATE_BUCKET = True
    bucket = s3_storage(f"created-{secrets.token_hex(4)}")
    assert _startup_errors() == []
    assert _bucket_exists(s3_endpoint, bucket)
    assert _startup_errors() == []  # the second start finds it
    item = services.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice",
                                    file=builders.evidence_file("ban_notice"))
    assert _s3_client(s3_endpoint).head_object(Bucket=bucket, Key=item.storage_name)["ContentLength"] > 0


def test_an_unreachable_s3_endpoint_is_a_start_up_error(s3_storage, settings):
    settings.STORAGES = {**settings.STORAGES, "evidence": evidence_s3_storage(
        bucket="b", endpoint_url=f"http://127.0.0.1:{_free_port()}", **KEYS)}
    (error,) = _startup_errors()
    assert "unreachable" in error.msg


def test_a_worker_refuses_to_start_without_its_bucket(s3_endpoint):
    bucket = f"missing-{secrets.token_hex(4)}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **_s3_env(s3_endpoint, bucket)}
    result = subprocess.run([str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--without-gossip",
                             "--without-mingle", "--without-heartbeat", "-Q", f"nothing-{bucket}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"celery worker refuses to start: appeals.E501: evidence bucket '{bucket}' does not exist" in result.stderr


def test_gunicorn_refuses_to_start_without_its_bucket(s3_endpoint):
    bucket = f"missing-{secrets.token_hex(4)}"
    env = _production_env(GUNICORN_BIND=f"127.0.0.1:{_free_port()}", WEB_CONCURRENCY="1", **_s3_env(s3_endpoint, bucket))
    result = subprocess.run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"gunicorn refuses to start: appeals.E501: evidence bucket '{bucket}' does not exist" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a shared PostgreSQL database")
def test_gunicorn_workers_fork_from_the_preloaded_master_and_serve_while_recycled(db, s3_endpoint, tmp_path):
    """gunicorn.conf.py preloads the app (config.startup.warm_up) and recycles each worker after
    GUNICORN_MAX_REQUESTS: the workers forked again and again from that master answer probes and
    database reads side by side, none inheriting a connection another uses."""
    port = _free_port()
    database = settings.DATABASES["default"]  # the test database (the `db` fixture set it up)
    env = _production_env(
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        REDIS_URL=settings.REDIS_URL, CACHE_KEY_PREFIX=f"preload-{port}", GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2", GUNICORN_MAX_REQUESTS="5", LOG_LEVEL="info", AWS_AUTO_CREATE_BUCKET="true",
        **_s3_env(s3_endpoint, f"preload-{secrets.token_hex(4)}"),
    )
    log = open(tmp_path / "gunicorn.log", "w+")
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            try:
                _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.3)
        answers = []

        def client(k):
            for i in range(15):
                if (i + k) % 2:
                    status, _headers, body = _get(f"http://127.0.0.1:{port}/healthz")
                    answers.append(("probe", status, '"ok"' in body))
                else:  # a token looked up in the database (a prepared statement on the worker's connection)
                    status, _headers, body = _get(f"http://127.0.0.1:{port}/api/v1/appeals/",
                                                  Authorization=f"Token {secrets.token_hex(32)}")
                    answers.append(("api", status, '"code"' in body or "detail" in body))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    text = (tmp_path / "gunicorn.log").read_text()
    assert len(answers) == 60, text[-3000:]
    assert {(kind, status, ok) for kind, status, ok in answers} == {("probe", 200, True), ("api", 401, True)}, answers
    # Recycled many times over (5 requests a worker), each new worker forked from the same master.
    assert text.count("Autorestarting worker after current request") >= 6, text[-3000:]
    assert text.count("Booting worker") >= 8, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


# --- scripts/serve.sh: the documented start, on a fresh database ---------------------------------------


@pytest.fixture
def fresh_database():
    name = f"{settings.DATABASES['default']['NAME']}_serve"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _get(url, **headers):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.mark.slow
def test_serve_sh_checks_migrates_collects_static_and_serves_pages(fresh_database, s3_endpoint, tmp_path):
    port = _free_port()
    bucket = f"serve-{secrets.token_hex(4)}"
    env = _production_env(
        DATABASE_URL=fresh_database, REDIS_URL=settings.REDIS_URL, CACHE_KEY_PREFIX=f"serve-{port}",
        STATIC_ROOT=str(tmp_path / "static"), GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
        AWS_AUTO_CREATE_BUCKET="true", **_s3_env(s3_endpoint, bucket),
    )
    log = open(tmp_path / "serve.log", "w+")
    launched = time.monotonic()
    proc = subprocess.Popen(["scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/login/", **{"X-Request-ID": "probe-0123456789"})
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("gunicorn did not answer: " + (tmp_path / "serve.log").read_text())
        print(f"serve.sh on a fresh database: first page after {time.monotonic() - launched:.1f} s "
              "(check --deploy, migrate, collectstatic, gunicorn)")
        # An HTML page right away: static files were collected and are served with hashed names.
        assert status == 200, body
        assert headers["X-Request-ID"] == "probe-0123456789"
        static = re.findall(r'(?:href|src)="(/static/[^"]+)"', body)
        assert static and all(re.search(r"\.[0-9a-f]{12}\.", path) for path in static), static
        assert _get(f"http://127.0.0.1:{port}{static[0]}")[0] == 200, (static, os.listdir(tmp_path / "static"))
        # Without the proxy's https header: redirected to https (production settings).
        plain = urllib.request.Request(f"http://127.0.0.1:{port}/login/")
        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(_NoRedirect).open(plain, timeout=10)
        assert redirect.value.code == 301 and redirect.value.headers["Location"].startswith("https://")
        assert _bucket_exists(s3_endpoint, bucket)
        # Migrated: the demo-free production database has the schema, and no demo user.
        with psycopg.connect(fresh_database.replace("postgres://", "postgresql://")) as conn:
            assert conn.execute("SELECT count(*) FROM appeals_user").fetchone() == (0,)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    text = (tmp_path / "serve.log").read_text()
    assert "System check identified no issues" in text
    access = [line for line in text.splitlines() if line.startswith("{") and '"appeals.request"' in line]
    assert any('"request_id": "probe-0123456789"' in line and '"status": 200' in line for line in access), text[-3000:]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# --- two deployments on one Redis -------------------------------------------------------------------


def test_two_deployments_keep_their_cache_and_broker_keys_apart_on_one_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    tag = secrets.token_hex(3)
    script = ("from django.core.cache import cache; from config.celery import app; "
              "cache.set('greeting', 'hello', 60); app.send_task('appeals.tasks.not_a_task')")
    try:
        for deployment in ("a", "b"):
            env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings.local", "REDIS_URL": settings.REDIS_URL,
                   "CACHE_KEY_PREFIX": f"dep-{tag}-{deployment}", "CELERY_BROKER_KEYPREFIX": f"dep-{tag}-{deployment}-broker:",
                   "DATABASE_URL": "sqlite:///:memory:"}
            result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", script], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
        keys = {k.decode() for k in client.scan_iter(match=f"dep-{tag}-*")}
        # Every key each one wrote is under its own prefix: the cache entry, the queue, kombu's bindings.
        for deployment in ("a", "b"):
            assert {f"dep-{tag}-{deployment}:1:greeting", f"dep-{tag}-{deployment}-broker:celery",
                    f"dep-{tag}-{deployment}-broker:_kombu.binding.celery"} <= keys, keys
        assert client.llen(f"dep-{tag}-a-broker:celery") == 1 and client.llen(f"dep-{tag}-b-broker:celery") == 1
    finally:
        for key in client.scan_iter(match=f"dep-{tag}-*"):
            client.delete(key)
        client.close()


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    probe = "from django.conf import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    for env, expected in [(_production_env(), ["60", "True"]), (_production_env(CONN_MAX_AGE="15"), ["15", "True"]),
                          ({**CLEAN, "DATABASE_URL": "sqlite:///:memory:"}, ["0", "True"])]:
        out = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", probe], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.stdout.split() == expected, out.stderr
