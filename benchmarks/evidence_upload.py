"""Benchmark: evidence upload through the real HTTP API, 200 MB vs 5 MB.

For each size it starts a fresh server process (`manage.py runserver --noreload
--nothreading`, the same Django app and upload path as production), streams one multipart
upload to POST /api/v1/appeals/<ref>/evidence/ and reads the server's peak RSS (VmHWM).
In the same run it times `cp` + `sha256sum` on the same file. Prints medians and ratios:

- peak RSS 200 MB / 5 MB (target: at most 1.10)
- throughput upload / (cp + sha256sum) (target: at least 0.5)

    .venv/bin/python benchmarks/evidence_upload.py [--runs 3] [--big-mb 200] [--small-mb 5]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

SETUP = r"""
import json
from datetime import timedelta
from django.utils import timezone
from knox.models import AuthToken
from appeals.models import Enterprise, MessagingAccount, BanIncident, User
from appeals.core.services.appeals import appeal_create
from tests.factories import make_credit_code
ent = Enterprise.objects.create(name="Bench Co", credit_code=make_credit_code(4242), legal_rep_name="张伟",
    legal_rep_mobile="13800000000", admin_name="李娜", admin_email="a@example.com", admin_phone="13900000000")
admin = User.objects.create_user("bench-admin", password="x", enterprise=ent)
token = AuthToken.objects.create(user=admin)[1]
refs = []
for i in range(N):
    acc = MessagingAccount.objects.create(enterprise=ent, account_id=f"bench-{i}", display_name=f"B{i}", account_type="master")
    inc = BanIncident.objects.create(enterprise=ent, account=acc, banned_at=timezone.now() - timedelta(hours=1),
        kind="permanent_ban", severity="severe", created_by=admin)
    refs.append(appeal_create(by=admin, incident=inc, statement="bench", contact_phone="13700000000").reference)
print(json.dumps({"token": token, "refs": refs}))
"""


def make_log(path: Path, size: int) -> None:
    line = "2026-11-20 10:00:00,wx-0001,operations,send_message,wxid_12345,你好，请问有什么可以帮您,10.0.0.1,dev-1\n".encode()
    block = line * (1024 * 1024 // len(line) + 1)
    with open(path, "wb") as fp:
        written = 0
        while written < size:
            chunk = block[: size - written]
            fp.write(chunk)
            written += len(chunk)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def start_server(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def upload(port: int, token: str, ref: str, path: Path) -> float:
    boundary = "----evidencebench7f3a"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\noperation_log\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"log.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def body():
        yield head
        with open(path, "rb") as fp:
            while chunk := fp.read(1024 * 1024):
                yield chunk
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", f"/api/v1/appeals/{ref}/evidence/", body=body(), headers={
        "Authorization": f"Token {token}", "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail)), "Accept": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"upload failed: {response.status} {payload[:300]!r}")
    return elapsed


def cp_sha256sum(path: Path, workdir: Path) -> float:
    dst = workdir / "copy.bin"
    start = time.perf_counter()
    subprocess.run(f"cp '{path}' '{dst}' && sha256sum '{dst}' > /dev/null", shell=True, check=True)
    elapsed = time.perf_counter() - start
    dst.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--small-mb", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false", "SECRET_KEY": "bench-only",
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "MEDIA_ROOT": str(work / "media"),
            "CELERY_BROKER_URL": "memory://", "CELERY_TASK_ALWAYS_EAGER": "false", "LOG_LEVEL": "WARNING",
            "TMPDIR": str(work / "tmp"),
        })
        (work / "tmp").mkdir()
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        out = subprocess.run([PY, "manage.py", "shell", "-c", SETUP.replace("range(N)", f"range({2 * args.runs})")],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        setup = json.loads(out.strip().splitlines()[-1])
        refs = iter(setup["refs"])
        files = {}
        for label, mb in (("small", args.small_mb), ("big", args.big_mb)):
            files[label] = work / f"{label}.csv"
            make_log(files[label], mb * 1024 * 1024)
        results = {"small": {"rss": [], "secs": [], "idle": []}, "big": {"rss": [], "secs": [], "idle": []}}
        baseline = []
        for _ in range(args.runs):
            for label in ("small", "big"):
                proc, port = start_server(env)
                try:
                    results[label]["idle"].append(peak_rss_mb(proc.pid))
                    results[label]["secs"].append(upload(port, setup["token"], next(refs), files[label]))
                    results[label]["rss"].append(peak_rss_mb(proc.pid))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
            baseline.append(cp_sha256sum(files["big"], work))

        size_big = files["big"].stat().st_size / 2**20
        small_rss, big_rss = statistics.median(results["small"]["rss"]), statistics.median(results["big"]["rss"])
        up_secs, base_secs = statistics.median(results["big"]["secs"]), statistics.median(baseline)
        print(f"runs: {args.runs}; files {args.small_mb} MB and {args.big_mb} MB (CSV operation log), fresh server per upload")
        print(f"server peak RSS, idle before upload : median {statistics.median(results['small']['idle']):.1f} MB")
        print(f"server peak RSS, {args.small_mb:>3} MB upload      : median {small_rss:.1f} MB  {results['small']['rss']}")
        print(f"server peak RSS, {args.big_mb:>3} MB upload      : median {big_rss:.1f} MB  {results['big']['rss']}")
        print(f"peak RSS ratio big/small           : {big_rss / small_rss:.3f}  (target <= 1.10)")
        print(f"upload {args.big_mb} MB via HTTP API         : median {up_secs:.2f} s = {size_big / up_secs:.0f} MB/s  {results['big']['secs']}")
        print(f"cp + sha256sum same file           : median {base_secs:.2f} s = {size_big / base_secs:.0f} MB/s  {baseline}")
        print(f"throughput ratio upload/(cp+sha256sum): {base_secs / up_secs:.2f}  (target >= 0.50)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
