"""Benchmark: the appeal list and search as the table grows, and the list's throughput beside
what the machine can do.

Builds a scratch PostgreSQL database (BENCH_DATABASE_URL, default .../bench_appeals_lists),
migrates it and bulk-loads appeals in steps up to each size (200 enterprises, states spread
like a working desk, Chinese and English statements from a small vocabulary, search rows made
with the product's own `lexemes()`). At each size it times GET /api/v1/appeals/ in-process
with a reviewer's token: page 1, a deep page, filtered by state, and searches (a common
two-character word, a rare phrase, a reference). Prints medians and the ratio largest/smallest.

With --throughput, at the size given there it also starts gunicorn (2 workers) with the app,
and a floor: a minimal WSGI app with psycopg running the same page's indexed keyset query
and encoding it as JSON (no Django). A bounded loopback load (--clients threads for
--seconds each, keep-alive) measures requests/s of both, in turns, --rounds times; prints the
medians and the median of the rounds' ratios. The list's
load comes from 200 reviewers taking turns, each under the product's default rate limit.

    .venv/bin/python benchmarks/lists.py --sizes 10000 1000000 [--repeat 15]
    .venv/bin/python benchmarks/lists.py --sizes 100000 --throughput 100000 [--seconds 20]
"""

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_appeals_lists")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("SECRET_KEY", "bench-lists-not-secret")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # no access line per timed request in the output
# The product's own rate limits (600 requests a minute per user by default) apply: the load is
# spread over LOAD_USERS reviewers, as a busy desk's traffic is. The run counts in a cache
# namespace of its own, so no other run or benchmark sharing Redis adds to its histories.
os.environ["CACHE_KEY_PREFIX"] = f"bench-lists-{os.getpid()}-{time.time_ns()}"
LOAD_USERS = 200

parser = argparse.ArgumentParser()
parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
parser.add_argument("--repeat", type=int, default=15)
parser.add_argument("--throughput", type=int, default=0, help="measure requests/s at this size (0: skip)")
parser.add_argument("--seconds", type=float, default=15.0)
parser.add_argument("--clients", type=int, default=4)
parser.add_argument("--rounds", type=int, default=3, help="throughput measured this many times, floor and list in turns")
parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards (to look at plans)")
ARGS = parser.parse_args()

import psycopg  # noqa: E402

base, _, name = URL.rpartition("/")
with psycopg.connect(f"{base}/postgres", autocommit=True) as admin_conn:
    admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_conn.execute(f'CREATE DATABASE "{name}"')

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from appeals.core import search  # noqa: E402
from appeals.core.models import Appeal, BanIncident, Enterprise, MessagingAccount, User  # noqa: E402

call_command("migrate", verbosity=0)
settings.DEBUG = False  # no query log: time what production runs

PHRASES = [
    "我们的客服只是给老客户发送节日问候", "账号被误封请求解封", "没有违规营销行为", "新员工操作不熟悉",
    "批量添加好友是因为展会现场扫码", "客户主动要求加微信", "我们已经整改并删除了广告内容", "请审核我们的营业执照",
    "the account only served existing customers", "we never sent bulk advertising", "please restore our account",
    "a new employee logged in from a hotel", "customers asked us to add them after the fair",
]
RARE = "发放红包"  # one statement in a thousand
STATES = ["first_review"] * 3 + ["second_review"] * 2 + ["approved"] * 8 + ["rejected"] * 4 + ["needs_info", "draft"]
random.seed(7)


def load(total: int, have: int, names: dict, accounts: list, admin) -> None:
    now = timezone.now()
    for start in range(have, total, 5000):
        stop = min(total, start + 5000)
        incidents = BanIncident.objects.bulk_create([
            BanIncident(enterprise_id=accounts[i % len(accounts)].enterprise_id, account=accounts[i % len(accounts)],
                        banned_at=now, kind="short_ban", severity="medium", created_by=admin)
            for i in range(start, stop)
        ])
        appeals = Appeal.objects.bulk_create([
            Appeal(reference=f"AP-2026-{i:07d}", enterprise_id=inc.enterprise_id, incident=inc, filed_by=admin,
                   state=STATES[i % len(STATES)], contact_phone="13800000000", submitted_at=now,
                   statement="，".join(random.sample(PHRASES, 3)) + ("，" + RARE if i % 1000 == 7 else ""))
            for i, inc in zip(range(start, stop), incidents, strict=True)
        ])
        with connection.cursor() as cursor, cursor.copy("COPY bench_search_load (appeal_id, document, lex) FROM STDIN") as copy:
            for appeal in appeals:
                doc = search.normalise("\n".join([appeal.reference, appeal.statement, names[appeal.enterprise_id]]))
                copy.write_row((appeal.pk, doc, sorted(search.lexemes(doc))))
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO appeals_appealsearch (appeal_id, document, vector) "
                       "SELECT appeal_id, document, array_to_tsvector(lex) FROM bench_search_load")
        cursor.execute("TRUNCATE bench_search_load")
        # VACUUM as well: the timings are of a settled table (hint bits set, visibility map
        # built), not of autovacuum catching up with the load on the same two cores meanwhile.
        cursor.execute("VACUUM (ANALYZE)")


def token_for(user) -> str:
    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": "bench-pass-2026"},
                           content_type="application/json")
    assert response.status_code in (200, 201), response.content[:300]
    return response.json()["token"]


def timed(client: Client, auth: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get("/api/v1/appeals/", params, HTTP_AUTHORIZATION=auth)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.content[:300]
    return elapsed


FLOOR_APP = '''
import json, os, psycopg
conn = None
SQL = """SELECT a.reference, a.state, a.enterprise_id, e.name, a.incident_id, i.kind, i.severity, m.platform,
  m.display_name, f.username, r1.username, r2.username, a.submitted_at, a.decided_at, a.created_at
FROM appeals_appeal a JOIN appeals_enterprise e ON e.id = a.enterprise_id
JOIN appeals_banincident i ON i.id = a.incident_id JOIN appeals_messagingaccount m ON m.id = i.account_id
JOIN appeals_user f ON f.id = a.filed_by_id LEFT JOIN appeals_user r1 ON r1.id = a.first_reviewer_id
LEFT JOIN appeals_user r2 ON r2.id = a.second_reviewer_id
WHERE NOT (a.state = 'draft') ORDER BY a.created_at DESC, a.id DESC LIMIT 20"""
def app(environ, start_response):
    global conn
    if conn is None:
        conn = psycopg.connect(os.environ["FLOOR_DSN"], autocommit=True)
    rows = conn.execute(SQL).fetchall()
    body = json.dumps({"results": [[str(v) if v is not None else None for v in r] for r in rows]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str, port: int, env: dict, cwd: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "--keep-alive", "30", app], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-500:]}")


def load_test(port: int, path: str, headers: list[dict]) -> float:
    """Requests/s of `clients` keep-alive threads for `seconds` (bounded, loopback only); the
    requests take turns with the `headers` given (one set per user)."""
    deadline = time.perf_counter() + ARGS.seconds
    counts = [0] * ARGS.clients
    errors = []

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        turn = k
        while time.perf_counter() < deadline:
            conn.request("GET", path, headers=headers[turn % len(headers)])
            turn += ARGS.clients
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
                return
            counts[k] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(ARGS.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"load test saw HTTP {errors[0]}")
    return sum(counts) / (time.perf_counter() - started)


def throughput(tokens: list[str]) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": URL, "FLOOR_DSN": URL,
           "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           # As production runs it: kept database connections, warnings only in the log.
           "CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING"}
    floor_label, list_label = "floor (psycopg + json, no Django)", f"appeal list API (page 1, {len(tokens)} reviewers)"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "floor_app.py").write_text(FLOOR_APP)
        # Both servers run side by side (an idle one costs nothing) and are measured in turns,
        # --rounds times: a shared machine's slow spells then fall on both, and the ratio is
        # the median of the rounds' ratios.
        servers = {}
        try:
            for label, app, cwd, path, headers in (
                (floor_label, "floor_app:app", tmp, "/", [{}]),
                (list_label, "config.wsgi:application", str(ROOT), "/api/v1/appeals/",
                 [{"Authorization": f"Token {token}"} for token in tokens]),
            ):
                port = free_port()
                servers[label] = (serve(app, port, env, cwd), port, path, headers)
            for _proc, port, path, headers in servers.values():
                load_test(port, path, headers)  # warm both workers
            rounds = []
            for _ in range(ARGS.rounds):
                rounds.append({label: load_test(port, path, headers) for label, (_proc, port, path, headers) in servers.items()})
        finally:
            for proc, *_rest in servers.values():
                proc.send_signal(signal.SIGTERM)
            for proc, *_rest in servers.values():
                proc.wait(timeout=20)
    print(f"\nthroughput at {ARGS.throughput} appeals ({ARGS.clients} clients, {ARGS.seconds:g} s a measure, "
          f"gunicorn -w 2, {ARGS.rounds} rounds in turns):")
    for label in (floor_label, list_label):
        each = ", ".join(f"{r[label]:.1f}" for r in rounds)
        print(f"  {label:<44}{statistics.median(r[label] for r in rounds):>8.1f} requests/s (median; rounds: {each})")
    ratios = [r[list_label] / r[floor_label] for r in rounds]
    print(f"  ratio list/floor {statistics.median(ratios):.2f} (median; rounds: {', '.join(f'{x:.2f}' for x in ratios)})")


def main() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNLOGGED TABLE bench_search_load (appeal_id bigint, document text, lex text[])")
    admin = User.objects.create(username="bench-admin")
    reviewer = User.objects.create(username="bench-reviewer", is_first_reviewer=True, is_second_reviewer=True)
    reviewer.set_password("bench-pass-2026")
    reviewer.save()
    ents = [Enterprise.objects.create(name=f"企业{i}贸易有限公司", credit_code=f"91310000MA1K{i:06d}",
                                      legal_rep_name="张三", legal_rep_mobile="13800000000", admin_name="李四",
                                      admin_email="a@example.com", admin_phone="13800000001") for i in range(200)]
    names = {e.pk: e.name for e in ents}
    accounts = [MessagingAccount.objects.create(enterprise=e, account_id=f"wx-{e.pk}-{j}", display_name="客服",
                                                account_type="customer_service") for e in ents for j in range(2)]
    token = token_for(reviewer)
    auth = f"Token {token}"
    load_tokens = []
    if ARGS.throughput:
        for i in range(LOAD_USERS):
            user = User.objects.create(username=f"bench-load-{i}", is_first_reviewer=True, is_second_reviewer=True)
            load_tokens.append(AuthToken.objects.create(user)[1])
    client = Client(HTTP_HOST="127.0.0.1")
    results: dict[int, dict[str, float]] = {}
    have = 0
    sizes = sorted(set(ARGS.sizes + ([ARGS.throughput] if ARGS.throughput else [])))
    for size in sizes:
        started = time.perf_counter()
        load(size, have, names, accounts, admin)
        have = size
        print(f"{size:>9} appeals loaded in {time.perf_counter() - started:.1f} s", flush=True)
        if size == ARGS.throughput:
            throughput(load_tokens)
        if size not in ARGS.sizes:
            continue
        deep = max(1, size // 20 // 2)  # halfway through the desk's pages of 20
        cases = {
            "list page 1": {},
            "list deep page (halfway)": {"page": deep},
            "list filtered (state=first_review)": {"state": "first_review"},
            "search common 2-char (客户)": {"search": "客户"},
            "search rare phrase (发放红包)": {"search": RARE},
            "search reference": {"search": "AP-2026-0000077"},
        }
        results[size] = {}
        for label, params in cases.items():
            for _ in range(2):
                timed(client, auth, params)
            results[size][label] = statistics.median(timed(client, auth, params) for _ in range(ARGS.repeat))
    if not results:
        return
    small, large = min(results), max(results)
    print(f"\nmedian ms per request (GET /api/v1/appeals/, reviewer, in-process); ratio {large}/{small}")
    print(f"{'request':<40}" + "".join(f"{s:>12}" for s in sorted(results)) + f"{'ratio':>8}")
    for key in results[small]:
        row = "".join(f"{results[s].get(key, float('nan')):>12.2f}" for s in sorted(results))
        print(f"{key:<40}{row}{results[large][key] / results[small][key] if key in results[large] else float('nan'):>8.2f}")


try:
    main()
finally:
    connection.close()
    if not ARGS.keep:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin_conn:
            admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
