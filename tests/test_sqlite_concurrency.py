"""The embedded SQLite default under concurrent requests (issue 10, item 13).

A real threaded server (`runserver`, the default settings with no DATABASE_URL / REDIS_URL
beyond a temporary SQLite file) serves the case page of an appeal with many pieces of
evidence; its browser-like client fetches every thumbnail at once, several times over. Each
thumbnail view writes an audit row, so the writes collide: with SQLite's deferred transactions
that was "database is locked" (500). WAL, a busy timeout and IMMEDIATE write transactions
(config/settings/base.py) make them queue instead.
"""

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE", "TEST_DB_NAME",
                          "CELERY_BROKER_URL"}}
THUMBNAILS = 12

SETUP = f"""
from appeals.models import Appeal, User
from appeals.evidence import services
from tests.evidence import files
admin = User.objects.get(username="admin-a")
appeal = Appeal.objects.filter(enterprise=admin.enterprise, state="draft").order_by("id").first()
for i in range({THUMBNAILS}):
    services.evidence_upload(appeal=appeal, by=admin, kind="other", file=files.upload(f"shot-{{i}}.png", files.image_bytes("PNG")))
print("REF", appeal.reference)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(*args, env, timeout=240):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def embedded_server(tmp_path):
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media"),
           "LOG_LEVEL": "WARNING"}
    _manage("migrate", "--noinput", env=env)
    _manage("seed_demo", env=env)
    reference = re.search(r"REF (\S+)", _manage("shell", "--no-imports", "-c", SETUP, env=env)).group(1)
    port = _free_port()
    log = open(tmp_path / "runserver.log", "w")
    proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/login/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    try:
        yield base, reference, tmp_path / "runserver.log"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _signed_in(base: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THUMBNAILS + 4))
    page = session.get(base + "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = session.post(base + "/login/", data={"username": "admin-a", "password": "demo-pass-2026", "csrfmiddlewaretoken": token},
                     headers={"Referer": base + "/login/"}, allow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    return session


def test_case_page_with_many_thumbnails_loads_concurrently_on_sqlite(embedded_server):
    base, reference, log = embedded_server
    session = _signed_in(base)
    statuses = []
    for _round in range(4):
        page = session.get(f"{base}/appeals/{reference}/")
        statuses.append(page.status_code)
        thumbnails = sorted(set(re.findall(r'src="(/api/v1/appeals/[^"]+/thumbnail/)"', page.text)))
        assert len(thumbnails) >= THUMBNAILS, page.text[:2000]
        # What a browser does with the page: every image, a few connections at once, plus
        # the page's own reload.
        with ThreadPoolExecutor(max_workers=len(thumbnails) + 1) as pool:
            got = list(pool.map(lambda url: session.get(base + url, timeout=60).status_code,
                                [*thumbnails, f"/appeals/{reference}/"]))
        statuses.extend(got)
    errors = [s for s in statuses if s >= 500]
    assert errors == [], f"{len(errors)} of {len(statuses)} requests failed; see {log.read_text()[-3000:]}"
    assert set(statuses) == {200}
