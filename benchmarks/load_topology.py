"""Load test against the production topology (issue 13, items 7 and 9).

    .venv/bin/python benchmarks/load_topology.py [--seconds 60] [--users 6] [--reviewers 2] [--nodes 1 2] [--smoke]

For each node count asked for, starts scripts/topology.sh (nginx with TLS on loopback, web
nodes, two Celery workers, beat, moto S3; shared PostgreSQL and Redis) in a scratch database,
seeds enterprises, applicants and reviewers, and runs a bounded load for --seconds:

* applicants (API, knox tokens): create an incident and its appeal, read the evidence checklist,
  upload one valid file per required kind, submit, then read the SMS code and the email link
  where the workers delivered them (benchmarks/load_backends.py: the file backends plus an
  append-only journal) and answer both proofs;
* reviewers (web, session login): the first-review queue page and case pages.

With two nodes, at 40 % of the run (at the first instant, within 5 s, when a message is being
sent; each provider call takes --send-delay) one gunicorn node and one Celery worker are killed
with SIGKILL (their whole process groups). After the run the outbox is given time to drain, then the
script checks and prints: submissions attempted / acknowledged / in the database past draft
(zero lost), messages by state, provider calls per message key (each sent once), and
`manage.py verify_audit`. Then throughput and p50/p95/p99 latency per endpoint.

The load generator is a thread pool with `requests` (one Session per virtual user), not locust:
no new dependency (locust brings gevent and its monkey-patching), and the flow needs the
verification code read from the workers' journal between requests, which is plain code here.
Latency is measured around each request, client side, through nginx and TLS.

--smoke: one short run on two nodes (a few seconds of load, nothing killed) for `make bench-smoke`.
Everything listens on 127.0.0.1 only; every process started is stopped in a finally block.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests
import urllib3

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.evidence import files  # noqa: E402  (plain bytes makers; no Django settings needed)

PG = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
PORT_BASE = int(os.environ.get("LOAD_PORT_BASE", "19310"))
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SEED = """
import json
from knox.models import AuthToken
from tests import factories
n_app, n_rev, n_acc, tag = {n_app}, {n_rev}, {n_acc}, {tag!r}
out = {{"applicants": [], "reviewers": []}}
for i in range(n_app):
    ent = factories.EnterpriseFactory(name=f"Load {{tag}} {{i}} Ltd", legal_rep_mobile=f"137{{i:08d}}",
                                      admin_email=f"load-admin-{{i}}@example.com")
    user = factories.UserFactory(username=f"load-applicant-{{i}}", enterprise=ent)
    accounts = [factories.AccountFactory(enterprise=ent, account_id=f"wx-load-{{i}}-{{k}}").pk for k in range(n_acc)]
    out["applicants"].append({{"token": AuthToken.objects.create(user=user)[1], "accounts": accounts}})
for i in range(n_rev):
    factories.UserFactory(username=f"load-reviewer-{{i}}", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)
    out["reviewers"].append({{"username": f"load-reviewer-{{i}}", "password": "demo-pass-2026"}})
print("SEED " + json.dumps(out))
"""


def evidence_content(kind: str) -> tuple[str, bytes, str]:
    """The same small valid files as tests/builders.evidence_content."""
    if kind == "operation_log":
        return "log.csv", files.log_csv(["2026-11-20 10:00:00,wx-1,master,login,,hello,10.0.0.1,dev-1"]).encode(), "text/csv"
    if kind in ("business_license", "authorization_letter"):
        return f"{kind}.pdf", files.pdf_bytes(), "application/pdf"
    return f"{kind}.png", files.image_bytes("PNG"), "image/png"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.submits_attempted = 0
        self.submits_acked: list[str] = []
        self.verified = 0
        self.error_bodies: dict[str, list[str]] = defaultdict(list)
        self.notes: list[str] = []

    def record(self, name: str, seconds: float, status: int | None):
        with self.lock:
            self.samples[name].append(seconds)
            self.statuses[name][status or 0] += 1
            if status is None or status >= 300:  # pages are fetched without following a redirect to the login
                self.errors[name] += 1


class Journal:
    """Reads the workers' append-only delivery journals; indexed by appeal reference."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lock = threading.Lock()
        self.offsets = {"sms.jsonl": 0, "email.jsonl": 0}
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    def _refresh(self):
        for name in self.offsets:
            path = self.folder / name
            if not path.exists():
                continue
            with path.open("rb") as fh:
                fh.seek(self.offsets[name])
                chunk = fh.read()
            end = chunk.rfind(b"\n") + 1
            self.offsets[name] += end
            for line in chunk[:end].splitlines():
                rec = json.loads(line)
                if name == "sms.jsonl" and rec["params"].get("code"):
                    self.codes[rec["params"].get("reference", "")] = rec["params"]["code"]
                elif name == "email.jsonl" and rec.get("token"):
                    self.tokens[rec["reference"]] = rec["token"]

    def wait(self, reference: str, stop_at: float) -> tuple[str | None, str | None]:
        while True:
            with self.lock:
                self._refresh()
                code, token = self.codes.get(reference), self.tokens.get(reference)
            if (code and token) or time.monotonic() > stop_at:
                return code, token
            time.sleep(0.2)


def timed(stats: Stats, name: str, session: requests.Session, method: str, url: str, **kw):
    started = time.perf_counter()
    try:
        resp = session.request(method, url, timeout=30, **kw)
    except requests.RequestException:
        stats.record(name, time.perf_counter() - started, None)
        return None
    stats.record(name, time.perf_counter() - started, resp.status_code)
    if resp.status_code >= 300 and len(stats.error_bodies[name]) < 2:
        stats.error_bodies[name].append(f"{resp.status_code} {resp.headers.get('Location', '')} {resp.text[:200]!r}")
    return resp


def new_session(cert: Path) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # loopback only: no proxy from the environment
    s.verify = str(cert)
    return s


def applicant_loop(url, cert, index, user, stats: Stats, journal: Journal, stop_at: float, verify_wait: float):
    s = new_session(cert)
    s.headers["Authorization"] = f"Token {user['token']}"
    accounts = list(user["accounts"])
    api = f"{url}/api/v1"
    while time.monotonic() < stop_at and accounts:
        account = accounts.pop()
        r = timed(stats, "POST incidents/", s, "POST", f"{api}/incidents/", json={
            "account": account, "banned_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "kind": "short_ban", "reason": "user_reports", "notice_text": "Load test ban notice."})
        if r is None or r.status_code != 201:
            continue
        r = timed(stats, "POST appeals/", s, "POST", f"{api}/appeals/", json={
            "incident": r.json()["id"], "statement": "Load test: we did not spam; please lift the ban.",
            # One contact phone per appeal: the per-phone monthly cap (MAX_APPEALS_PER_PHONE_PER_MONTH) stays on.
            "contact_phone": f"139{index:02d}{len(accounts):06d}"})
        if r is None or r.status_code != 201:
            continue
        ref = r.json()["reference"]
        r = timed(stats, "GET evidence/checklist/", s, "GET", f"{api}/appeals/{ref}/evidence/checklist/")
        if r is None or r.status_code != 200:
            continue
        ok = True
        for entry in r.json()["entries"]:
            if entry["required"] and not entry["satisfied"]:
                name, data, ctype = evidence_content(entry["kind"])
                up = timed(stats, "POST evidence/", s, "POST", f"{api}/appeals/{ref}/evidence/",
                           data={"kind": entry["kind"]}, files={"file": (name, data, ctype)})
                ok = ok and up is not None and up.status_code == 201
        if not ok:
            continue
        with stats.lock:
            stats.submits_attempted += 1
        r = timed(stats, "POST submit/", s, "POST", f"{api}/appeals/{ref}/submit/")
        if r is None or r.status_code != 200:
            continue
        with stats.lock:
            stats.submits_acked.append(ref)
        code, token = journal.wait(ref, time.monotonic() + verify_wait)
        if code:
            timed(stats, "POST verification/code/", s, "POST", f"{api}/appeals/{ref}/verification/code/", json={"code": code})
        if token:
            r = timed(stats, "POST verification/email/confirm/", s, "POST", f"{api}/verification/email/confirm/",
                      json={"token": token})
            if r is not None and r.status_code == 200 and code:
                with stats.lock:
                    stats.verified += 1


def reviewer_loop(url, cert, user, stats: Stats, stop_at: float):
    s = new_session(cert)
    s.headers["Referer"] = f"{url}/login/"
    for _ in range(5):  # a node may be down mid-login
        try:
            page = s.get(f"{url}/login/", timeout=30)
            match = CSRF_RE.search(page.text)
            resp = s.post(f"{url}/login/", timeout=30, data={"username": user["username"], "password": user["password"],
                                                             "csrfmiddlewaretoken": match.group(1) if match else ""})
            probe = s.get(f"{url}/queues/first/", timeout=30, allow_redirects=False)
            if resp.ok and probe.status_code == 200:
                break
            stats.notes.append(f"reviewer login: POST {resp.status_code}, queue {probe.status_code} "
                               f"{probe.headers.get('Location', '')}, cookies {sorted(s.cookies.keys())}")
        except requests.RequestException:
            pass
        time.sleep(0.5)
    refs: list[str] = []
    while time.monotonic() < stop_at:
        r = timed(stats, "GET queues/first/ (page)", s, "GET", f"{url}/queues/first/", allow_redirects=False)
        if r is not None and r.ok:
            refs = re.findall(r'class="ref" href="/appeals/([A-Z0-9-]+)/"', r.text) or refs
        if refs:
            timed(stats, "GET appeals/<ref>/ (page)", s, "GET", f"{url}/appeals/{random.choice(refs)}/", allow_redirects=False)
        time.sleep(0.05)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


class Topology:
    def __init__(self, nodes: int, run_dir: Path, db: str, prefix: str, send_delay: float):
        self.run_dir, self.db, self.prefix = run_dir, db, prefix
        self.journal_dir = run_dir / "journal"
        self.env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "TEST_DB_NAME", "DEBUG"}}
        self.env.update(
            TOPOLOGY_DIR=str(run_dir / "topology"), TOPOLOGY_PORT_BASE=str(PORT_BASE), TOPOLOGY_PREFIX=prefix,
            TOPOLOGY_NGINX_NODES=str(nodes), REDIS_URL=REDIS_URL, DATABASE_URL=f"{PG}/{db}",
            PYTHONPATH=str(ROOT), LOAD_JOURNAL_DIR=str(self.journal_dir), LOAD_SEND_DELAY=str(send_delay),
            SMS_BACKEND="benchmarks.load_backends.SmsBackend", SMS_FILE_PATH=str(run_dir / "sms"),
            EMAIL_BACKEND="benchmarks.load_backends.EmailBackend", EMAIL_FILE_PATH=str(run_dir / "mail"),
            THROTTLE_ANON="100000/min", THROTTLE_USER="100000/min", SMS_DAILY_CAP_PER_PHONE="100000",
            # A killed worker's claimed messages come back in seconds, not minutes (lease > hard limit).
            NOTIFICATIONS_TASK_SOFT_TIME_LIMIT="8", NOTIFICATIONS_TASK_TIME_LIMIT="10", NOTIFICATIONS_SEND_LEASE="15",
            NOTIFICATIONS_SWEEP_AFTER="10", BEAT_OUTBOX_SWEEP="5", WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
        )
        self.topo_dir = run_dir / "topology"

    def sh(self, *args, timeout=480, check=True):
        proc = subprocess.run(["scripts/topology.sh", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode:
            raise RuntimeError(f"topology.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def manage(self, *args, code: str | None = None, timeout=300) -> str:
        env = {**self.env, "DJANGO_SETTINGS_MODULE": "config.settings.production",
               "SECRET_KEY": (self.topo_dir / "secret-key").read_text().strip(),
               "FIELD_ENCRYPTION_KEYS": (self.topo_dir / "field-key").read_text().strip(), "ALLOWED_HOSTS": "127.0.0.1",
               "CACHE_KEY_PREFIX": f"{self.prefix}cache", "CELERY_BROKER_KEYPREFIX": f"{self.prefix}broker:",
               "SURGE_REDIS_PREFIX": f"{self.prefix}surge", "EVIDENCE_S3_ENDPOINT_URL": f"http://127.0.0.1:{PORT_BASE + 3}",
               "EVIDENCE_S3_ACCESS_KEY_ID": "topology-key", "EVIDENCE_S3_SECRET_ACCESS_KEY": "topology-secret",
               "MEDIA_ROOT": str(self.topo_dir / "media"), "STATIC_ROOT": str(self.topo_dir / "static")}
        cmd = [sys.executable, "manage.py", *args] + (["--no-imports", "-c", code] if code else [])
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode and args[0] != "verify_audit":
            raise RuntimeError(f"manage.py {args[0]} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout + proc.stderr + (f"\n(exit {proc.returncode})" if proc.returncode else "")

    def kill(self, name: str) -> int:
        pid = int((self.topo_dir / f"{name}.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        return pid


def drop_db(db: str):
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def clear_redis(prefix: str):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i:i + 500])


def run_once(nodes: int, opts, tag: str) -> dict:
    db = f"load_topology_{tag}_{nodes}"
    prefix = f"load-{tag}-{nodes}:"
    run_dir = Path(opts.dir).resolve() / f"{tag}-{nodes}"
    run_dir.mkdir(parents=True, exist_ok=True)
    drop_db(db)
    kills = nodes == 2 and not opts.no_kill
    topo = Topology(nodes, run_dir, db, prefix, opts.send_delay if kills else 0.0)
    try:
        t0 = time.monotonic()
        topo.sh("start")
        print(f"[{nodes} node(s)] topology up in {time.monotonic() - t0:.0f} s", flush=True)
        n_acc = max(20, int(opts.seconds * 2))  # more accounts than a user can file in the run
        seed_out = topo.manage("shell", code=SEED.format(n_app=opts.users, n_rev=opts.reviewers, n_acc=n_acc, tag=tag))
        seed = json.loads(seed_out.split("SEED ", 1)[1].splitlines()[0])
        url, cert = f"https://127.0.0.1:{PORT_BASE}", topo.topo_dir / "tls.crt"
        stats, journal = Stats(), Journal(topo.journal_dir)
        stop_at = time.monotonic() + opts.seconds
        threads = [threading.Thread(target=applicant_loop, args=(url, cert, i, u, stats, journal, stop_at, opts.verify_wait))
                   for i, u in enumerate(seed["applicants"])]
        threads += [threading.Thread(target=reviewer_loop, args=(url, cert, u, stats, stop_at)) for u in seed["reviewers"]]
        started = time.monotonic()
        for t in threads:
            t.start()
        killed, in_flight = [], []
        if kills:
            time.sleep(opts.seconds * 0.4)
            with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
                # Up to 5 s more for an instant when a message is being sent (by either worker).
                wait_until = time.monotonic() + 5
                while time.monotonic() < wait_until and not conn.execute(
                        "select 1 from appeals_message where state = 'sending' limit 1").fetchone():
                    time.sleep(0.02)
                killed = [("web2", topo.kill("web2")), ("worker1", topo.kill("worker1"))]
                # Claimed by one of the two workers when worker1 died (the survivor's finish normally).
                in_flight = [k for (k,) in conn.execute("select idempotency_key from appeals_message where state = 'sending'")]
            print(f"[{nodes} node(s)] at {time.monotonic() - started:.1f} s: SIGKILL " +
                  ", ".join(f"{n} (pgid {p})" for n, p in killed), flush=True)
        for t in threads:
            t.join(timeout=opts.seconds + opts.verify_wait + 60)
        elapsed = time.monotonic() - started

        # The outbox drains (bounded); the sweeper re-enqueues what the killed worker held.
        count_sql = "select state, count(*) from appeals_message group by state"
        deadline = time.monotonic() + opts.drain
        with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
            while True:
                states = dict(conn.execute(count_sql).fetchall())
                if not states.get("queued") and not states.get("sending") or time.monotonic() > deadline:
                    break
                time.sleep(1)
            acked = stats.submits_acked
            found = dict(conn.execute("select reference, state from appeals_appeal where reference = any(%s)",
                                      (acked,)).fetchall()) if acked else {}
            keys = [k for (k,) in conn.execute("select idempotency_key from appeals_message where state = 'sent'")]
            in_flight_rows = conn.execute("select idempotency_key, state from appeals_message where idempotency_key = any(%s)",
                                          (in_flight,)).fetchall()
        lost = [r for r in acked if found.get(r) in (None, "draft")]
        sends = defaultdict(int)
        for name in ("sms.jsonl", "email.jsonl"):
            path = topo.journal_dir / name
            for line in path.read_text().splitlines() if path.exists() else []:
                sends[json.loads(line)["key"]] += 1
        duplicates = {k: n for k, n in sends.items() if n > 1}
        unsent_but_delivered = [k for k in sends if k not in set(keys)]
        audit = topo.manage("verify_audit").strip()
        in_flight_final = {k: (state, sends.get(k, 0)) for k, state in in_flight_rows}
        return {"in_flight": in_flight_final, "nodes": nodes, "elapsed": elapsed, "stats": stats, "killed": killed, "states": states, "lost": lost,
                "found_states": found, "sends": sends, "duplicates": duplicates, "sent_keys": keys,
                "delivered_not_marked": unsent_but_delivered, "audit": audit}
    finally:
        try:
            topo.sh("stop", timeout=180, check=False)
        finally:
            clear_redis(prefix)
            if not opts.keep:
                drop_db(db)


def report(res: dict) -> bool:
    st: Stats = res["stats"]
    n = res["nodes"]
    print(f"\n=== {n} web node(s) behind nginx: {res['elapsed']:.1f} s of load ===")
    if res["killed"]:
        print("killed mid-run: " + ", ".join(name for name, _ in res["killed"]) +
              f"; messages claimed ('sending') at that instant: {len(res['in_flight'])}, now (state, provider calls): "
              f"{sorted(res['in_flight'].values())}")
    total = sum(len(v) for v in st.samples.values())
    print(f"requests: {total}  throughput: {total / res['elapsed']:.1f} req/s  errors (>=300 or no answer): "
          f"{sum(st.errors.values())}")
    print(f"{'endpoint':36s} {'count':>6s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>6s}")
    for name, values in sorted(st.samples.items()):
        print(f"{name:36s} {len(values):6d} {len(values) / res['elapsed']:7.2f} {pct(values, 50):8.1f} "
              f"{pct(values, 95):8.1f} {pct(values, 99):8.1f} {st.errors[name]:6d}")
    for name, codes in sorted(st.statuses.items()):
        bad = {c: k for c, k in codes.items() if c == 0 or c >= 300}
        if bad:
            print(f"  {name}: statuses {dict(sorted(bad.items()))} (0 = no answer); first: {st.error_bodies[name]}")
    for note in st.notes[:3]:
        print(f"  note: {note}")
    by_state = defaultdict(int)
    for state in res["found_states"].values():
        by_state[state] += 1
    print(f"submissions: attempted {st.submits_attempted}, acknowledged (2xx) {len(st.submits_acked)}, "
          f"in the database past draft {len(st.submits_acked) - len(res['lost'])} {dict(by_state)}, "
          f"lost {len(res['lost'])}; both proofs answered for {st.verified}")
    sent = len(res["sent_keys"])
    print(f"messages: by state {res['states']}; provider calls {sum(res['sends'].values())} for {len(res['sends'])} "
          f"keys, {sent} rows sent; sent more than once: {len(res['duplicates'])}; "
          f"delivered but not marked sent: {len(res['delivered_not_marked'])}")
    print(f"verify_audit: {res['audit'].splitlines()[-1] if res['audit'] else '(no output)'}")
    ok = (not res["lost"] and not res["duplicates"] and not res["states"].get("queued") and not res["states"].get("sending")
          and not res["states"].get("failed") and "(exit" not in res["audit"] and st.verified > 0)
    print("RESULT: " + ("ok" if ok else "FAILED"))
    return ok


def main() -> int:
    urllib3.disable_warnings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=6, help="concurrent applicant virtual users")
    parser.add_argument("--reviewers", type=int, default=2, help="concurrent reviewer virtual users")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--verify-wait", type=float, default=30, help="seconds an applicant waits for its code and link")
    parser.add_argument("--drain", type=float, default=120, help="seconds the outbox may take to drain after the run")
    parser.add_argument("--send-delay", type=float, default=0.1,
                        help="seconds each provider call takes in the kill run, so the killed worker is likely mid-send")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a web node and a worker in the two-node run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--dir", default=str(ROOT / ".load-topology"), help="run directory (logs, journals)")
    parser.add_argument("--smoke", action="store_true", help="a few seconds on two nodes (make bench-smoke)")
    opts = parser.parse_args()
    if opts.smoke:
        # "Does it still run": no kill, whose outcome depends on what the killed worker was doing at
        # that instant (an email caught mid-send is marked failed, never sent twice: the real run says so).
        opts.seconds, opts.users, opts.reviewers, opts.nodes, opts.verify_wait, opts.drain = 6, 2, 1, [2], 15, 40
        opts.no_kill = True
    tag = f"{os.getpid()}"
    print(f"load test: {opts.seconds:.0f} s per run, {opts.users} applicants + {opts.reviewers} reviewers, "
          f"nodes {opts.nodes}, nginx https://127.0.0.1:{PORT_BASE}", flush=True)
    results = [run_once(n, opts, tag) for n in opts.nodes]
    ok = all([report(r) for r in results])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
