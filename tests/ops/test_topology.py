"""scripts/topology.sh: two gunicorn nodes behind nginx (TLS on loopback), two workers, two
beats (one idles on the lock), shared PostgreSQL, Redis and the local S3 server. Evidence
uploaded through nginx lands in the bucket, a worker derives its display copies, and nginx's
request id is the one in the response, the web node's line and the worker's."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import psycopg
import pytest
import requests
from django.conf import settings

from tests import builders

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.worker]

SETUP = """
from knox.models import AuthToken
from appeals.core.services import appeals as svc
from tests import factories
admin = factories.UserFactory(username="topology-admin", enterprise=factories.EnterpriseFactory())
incident = factories.IncidentFactory(account=factories.AccountFactory(enterprise=admin.enterprise), created_by=admin)
appeal = svc.appeal_create(by=admin, incident=incident, statement="Topology check.", contact_phone="13812345678")
print(AuthToken.objects.create(user=admin)[1], appeal.reference)
"""


def _free_base(span=4) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span >= 65535:
            continue
        try:
            socks = []
            for port in range(base, base + span):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no four free consecutive ports")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def topology(tmp_path):
    name = f"{settings.DATABASES['default']['NAME']}_topology"
    admin_dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    base, prefix = _free_base(), f"topo-{secrets.token_hex(3)}:"
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "TEST_DB_NAME", "DEBUG"}}
    env.update(TOPOLOGY_DIR=str(tmp_path / "topology"), TOPOLOGY_PORT_BASE=str(base), TOPOLOGY_BEATS="2",
               TOPOLOGY_PREFIX=prefix, REDIS_URL=settings.REDIS_URL, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}")
    started = subprocess.run(["scripts/topology.sh", "start"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=480)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield base, tmp_path / "topology", env, prefix
    finally:
        subprocess.run(["scripts/topology.sh", "stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_nodes_behind_nginx_share_the_database_redis_and_s3(topology):
    base, run, env, prefix = topology
    url = f"https://127.0.0.1:{base}"
    status = subprocess.run(["scripts/topology.sh", "status"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    assert status.count("running") == 8, status

    # A user and a draft appeal in the shared database (the same settings the nodes run).
    shell_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": (run / "secret-key").read_text().strip(),
                 "FIELD_ENCRYPTION_KEYS": (run / "field-key").read_text().strip(),
                 "ALLOWED_HOSTS": "127.0.0.1", "CACHE_KEY_PREFIX": f"{prefix}cache"}
    made = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", SETUP], cwd=ROOT, env=shell_env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token, reference = made.stdout.split()[-2:]
    session = requests.Session()
    session.trust_env = False  # no proxy or CA bundle from the environment: loopback, our own certificate
    session.verify = str(run / "tls.crt")  # nginx's certificate, made by the script, verified
    session.headers["Authorization"] = f"Token {token}"

    # Both nodes serve: nginx spreads the requests over the two upstreams.
    for _ in range(6):
        assert session.get(f"{url}/api/v1/appeals/{reference}/").status_code == 200
    upstreams = {line.rsplit("upstream=", 1)[1] for line in (run / "nginx-access.log").read_text().splitlines()}
    assert upstreams >= {f"127.0.0.1:{base + 1}", f"127.0.0.1:{base + 2}"}

    # Evidence through nginx lands on the S3 server; a worker makes its display copies.
    name, data = builders.evidence_content("ban_notice")
    resp = session.post(f"{url}/api/v1/appeals/{reference}/evidence/", data={"kind": "ban_notice"},
                        files={"file": (name, data, "image/png")})
    assert resp.status_code == 201, resp.text
    rid = resp.headers["X-Request-ID"]
    assert len(rid) == 32  # nginx's $request_id, kept by the app
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{base + 3}", region_name="us-east-1",
                      aws_access_key_id="topology-key", aws_secret_access_key="topology-secret")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="appeal-evidence").get("Contents", [])]
        if any(".preview." in k for k in keys):
            break
        time.sleep(0.5)
    assert any(k.endswith(".png") and f"/{reference}/system_alert/" in k for k in keys), keys
    assert any(".preview." in k for k in keys) and any(".thumb." in k for k in keys), keys

    # The same id at the edge, on the web node that served it and in the worker that did the task.
    web = [r for node in ("web1", "web2") for r in _lines(run / f"{node}.log") if r["request_id"] == rid]
    assert any(r["logger"] == "appeals.request" and r["status"] == 201 for r in web)
    work = [r for node in ("worker1", "worker2") for r in _lines(run / f"{node}.log") if r["request_id"] == rid]
    assert any("derive_display_copies" in r["message"] and "succeeded" in r["message"] for r in work), work
    assert rid in (run / "nginx-access.log").read_text()

    # Two beats: one schedules, the other stands by on the lock.
    beats = [(run / f"beat{i}.log").read_text() for i in (1, 2)]
    assert sum("acquired: this beat schedules" in text for text in beats) == 1
    assert sum("standing by" in text for text in beats) == 1
