"""Benchmark: appeal search (appeals/core/search.py) at two table sizes.

Builds a scratch PostgreSQL database (BENCH_DATABASE_URL, default .../bench_appeals_search),
migrates it, bulk-loads N appeals with Chinese and English statements drawn from a small
vocabulary (spread over 200 enterprises), computes their search rows with the product's own
`lexemes()` and loads them with COPY, then times the list query a reviewer and an enterprise
admin run: `search_appeals(appeals_for(user), q)` ordered newest first, first page of 20.
Queries: a common two-character word, a rarer four-character phrase, a reference, an English
word. Prints the median per query at each size and the ratio large/small.

    .venv/bin/python benchmarks/search.py --sizes 10000 1000000 [--repeat 15]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_appeals_search")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

parser = argparse.ArgumentParser()
parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
parser.add_argument("--repeat", type=int, default=15)
ARGS = parser.parse_args()

import psycopg  # noqa: E402

base, _, name = URL.rpartition("/")
with psycopg.connect(f"{base}/postgres", autocommit=True) as admin_conn:
    admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_conn.execute(f'CREATE DATABASE "{name}"')

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appeals.core import search, selectors  # noqa: E402
from appeals.core.models import Appeal, BanIncident, Enterprise, MessagingAccount, User  # noqa: E402

call_command("migrate", verbosity=0)

PHRASES = [
    "我们的客服只是给老客户发送节日问候", "账号被误封请求解封", "没有违规营销行为", "新员工操作不熟悉",
    "批量添加好友是因为展会现场扫码", "客户主动要求加微信", "我们已经整改并删除了广告内容", "请审核我们的营业执照",
    "the account only served existing customers", "we never sent bulk advertising", "please restore our account",
    "a new employee logged in from a hotel", "customers asked us to add them after the fair",
]
RARE = "发放红包"  # in one statement in a thousand
random.seed(7)


def load(total: int, have: int, enterprises, accounts, admin) -> None:
    now = timezone.now()
    batch = 5000
    for start in range(have, total, batch):
        stop = min(total, start + batch)
        incidents = BanIncident.objects.bulk_create([
            BanIncident(enterprise_id=accounts[i % len(accounts)].enterprise_id, account=accounts[i % len(accounts)],
                        banned_at=now, kind="short_ban", severity="medium", created_by=admin)
            for i in range(start, stop)
        ])
        appeals = Appeal.objects.bulk_create([
            Appeal(reference=f"AP-2026-{i:07d}", enterprise_id=inc.enterprise_id, incident=inc, filed_by=admin,
                   state="first_review", contact_phone="13800000000", submitted_at=now,
                   statement="，".join(random.sample(PHRASES, 3)) + ("，" + RARE if i % 1000 == 7 else ""))
            for i, inc in zip(range(start, stop), incidents, strict=True)
        ])
        with connection.cursor() as cursor, cursor.copy(
            "COPY bench_search_load (appeal_id, document, lex) FROM STDIN"
        ) as copy:
            for appeal in appeals:
                doc = search.normalise("\n".join([appeal.reference, appeal.statement, enterprises[appeal.enterprise_id],
                                                   "wx-acct", "客服"]))
                copy.write_row((appeal.pk, doc, sorted(search.lexemes(doc))))


def timed(user, query: str) -> float:
    qs = search.search_appeals(selectors.appeals_for(user), query).order_by("-created_at", "-id")
    started = time.perf_counter()
    list(qs[:20])
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNLOGGED TABLE bench_search_load (appeal_id bigint, document text, lex text[])")
    admin = User.objects.create(username="bench-admin")
    reviewer = User.objects.create(username="bench-reviewer", is_first_reviewer=True)
    ents = [Enterprise.objects.create(name=f"企业{i}贸易有限公司", credit_code=f"91310000MA1K{i:06d}",
                                      legal_rep_name="张三", legal_rep_mobile="13800000000", admin_name="李四",
                                      admin_email="a@example.com", admin_phone="13800000001") for i in range(200)]
    names = {e.pk: e.name for e in ents}
    accounts = [MessagingAccount.objects.create(enterprise=e, account_id=f"wx-{e.pk}-{j}", display_name="客服",
                                                account_type="customer_service") for e in ents for j in range(2)]
    tenant_admin = User.objects.create(username="bench-tenant", enterprise=ents[0])
    queries = {"common 2-char (客户)": "客户", "rare phrase (发放红包)": RARE, "reference": "AP-2026-0000077",
               "English word": "fair"}
    results: dict[int, dict[str, float]] = {}
    have = 0
    for size in sorted(ARGS.sizes):
        started = time.perf_counter()
        load(size, have, names, accounts, admin)
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS appealsearch_vector")
            cursor.execute("INSERT INTO appeals_appealsearch (appeal_id, document, vector) "
                           "SELECT appeal_id, document, array_to_tsvector(lex) FROM bench_search_load")
            cursor.execute("TRUNCATE bench_search_load")
            cursor.execute("CREATE INDEX appealsearch_vector ON appeals_appealsearch USING gin (vector)")
            cursor.execute("ANALYZE")
        have = size
        print(f"{size:>9} appeals loaded and indexed in {time.perf_counter() - started:.1f} s", flush=True)
        results[size] = {}
        for label, query in queries.items():
            for who, user in (("reviewer", reviewer), ("admin", tenant_admin)):
                for _ in range(2):
                    timed(user, query)
                runs = [timed(user, query) for _ in range(ARGS.repeat)]
                results[size][f"{label}, {who}"] = statistics.median(runs)
    small, large = min(results), max(results)
    print(f"\nmedian ms per search (first page of 20, newest first); ratio {large}/{small}")
    print(f"{'query':<38}" + "".join(f"{s:>12}" for s in sorted(results)) + f"{'ratio':>8}")
    for key in results[small]:
        row = "".join(f"{results[s][key]:>12.2f}" for s in sorted(results))
        print(f"{key:<38}{row}{results[large][key] / results[small][key]:>8.2f}")


try:
    main()
finally:
    connection.close()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin_conn:
        admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
