"""Benchmark: operation-log analysis (risk rules and account health) of a 1,000,000-row log vs
a bare csv.reader loop.

The log holds the health events too (friend requests accepted, replies, deletes, blocks,
complaints: appeals.evidence.health), so the figures are those of the analysis with health;
`--layout old` writes the first layout only (no outcome events) for comparison.

Times are CPU time of the process doing the work (time.process_time), so other load on the
machine disturbs the comparison less. Prints the median rows/s of each over several runs, their ratio (target >= 0.5), and the
analysis' peak memory measured in a fresh process (peak RSS of the whole process, target
< 150 MB, and tracemalloc's peak of Python allocations during the analysis).

    .venv/bin/python benchmarks/evidence_log_analysis.py [--rows 1000000] [--runs 3] [--layout extended|old]
"""

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What each account type mostly does (DOMAIN.md isolation model); a few rows break the matrix.
TYPE_ACTIONS = {
    "master": ["send_message"] * 30 + ["add_friend"] * 25 + ["login"] * 10 + ["manage_accounts"] * 5 + ["export_data"] * 5,
    "operations": ["send_message"] * 40 + ["add_friend"] * 30 + ["mass_message"] * 5 + ["login"] * 10 + ["export_data"] * 3,
    "customer_service": ["send_message"] * 60 + ["add_friend"] * 20 + ["login"] * 10 + ["view_profile"] * 10,
    "developer": ["api_call"] * 60 + ["login"] * 20 + ["export_data"] * 10,
}
# What customers do back (the account health events), mixed in with the extended layout:
# about one request in four accepted, one message in three replied to, a few deletes, blocks, complaints.
OUTCOME_ACTIONS = {
    "master": ["friend_request_accepted"] * 6 + ["message_replied"] * 10 + ["deleted_by_customer", "blocked_by_customer"],
    "operations": ["friend_request_accepted"] * 7 + ["message_replied"] * 14 + ["deleted_by_customer"] * 2
    + ["blocked_by_customer", "complaint"],
    "customer_service": ["friend_request_accepted"] * 5 + ["message_replied"] * 20 + ["deleted_by_customer"],
    "developer": [],
}
TYPES = list(TYPE_ACTIONS)
VIOLATIONS = ["export_data", "send_message", "manage_accounts", "api_call"]
MESSAGES = ["你好，请问有什么可以帮您", "Hello, thanks for adding me", "今天的活动详情请查看链接", "", "收到，马上处理",
            "好的谢谢", "Order #12345 shipped", "明天见", "您好，这是您的订单确认", "请问还有其他问题吗"]
SENSITIVE = ["限时优惠，领红包", "加入会员享返利"]


def generate(path: Path, rows: int, seed: int = 7, layout: str = "extended") -> None:
    """A week of activity by 300 accounts; ~2% of messages hold a sensitive word, ~0.2% of
    actions break the permission matrix, ~0.1% come from a new device or IP."""
    rnd = random.Random(seed)
    type_actions = TYPE_ACTIONS if layout == "old" else {
        typ: actions + OUTCOME_ACTIONS[typ] for typ, actions in TYPE_ACTIONS.items()}
    operators = [(f"wx-{i:04d}", TYPES[i % 4], [f"dev-{i}-{d}" for d in range(1 + i % 3)],
                  [f"10.{i % 256}.{j}.{i % 100}" for j in range(2 + i % 3)]) for i in range(300)]
    t = datetime(2026, 11, 13, 0, 0, 0)
    step = timedelta(seconds=604800 / rows)  # seven days
    with open(path, "w", encoding="utf-8", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["time", "operator", "account_type", "action", "target", "message", "ip", "device_id"])
        for n in range(rows):
            op, typ, devs, ips = operators[rnd.randrange(300)]
            action = rnd.choice(type_actions[typ]) if rnd.random() > 0.002 else rnd.choice(VIOLATIONS)
            message = rnd.choice(SENSITIVE) if rnd.random() < 0.02 else rnd.choice(MESSAGES)
            w.writerow([(t + step * n).strftime("%Y-%m-%d %H:%M:%S"), op, typ, action, f"wxid_{rnd.randrange(10**6)}",
                        message, rnd.choice(ips) if rnd.random() > 0.001 else f"203.0.113.{rnd.randrange(255)}",
                        rnd.choice(devs) if rnd.random() > 0.001 else f"new-{rnd.randrange(10**6)}"])


CHILD = r"""
import csv, json, os, sys, time, tracemalloc
sys.path.insert(0, os.environ["ROOT"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
import django; django.setup()
from django.conf import settings
from appeals.evidence.log_analysis import analyse_operation_log
mode = sys.argv[2]
if mode == "trace":
    tracemalloc.start()
start = time.process_time()
if mode == "bare":
    rows = 0
    with open(sys.argv[1], encoding="utf-8", newline="") as fp:
        for _row in csv.reader(fp):
            rows += 1
    out = {"rows": rows}
else:
    with open(sys.argv[1], "rb") as fp:
        report = analyse_operation_log(fp, rules=settings.EVIDENCE_LOG_RULES, health_thresholds=settings.HEALTH_THRESHOLDS)
    accounts = report.health["accounts"]
    out = {"rows": report.rows_total, "malformed": report.rows_malformed, "flags": len(report.flags), "error": report.error,
           "health_flags": sum(f["rule"].startswith("health_") for f in report.flags), "accounts": len(accounts),
           "account_days": sum(len(a["days"]) for a in accounts)}
out["elapsed"] = time.process_time() - start
out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20 if mode == "trace" else 0
status = open("/proc/self/status").read()
out["peak_rss_mb"] = int([l for l in status.splitlines() if l.startswith("VmHWM")][0].split()[1]) / 1024
print(json.dumps(out))
"""


def child(path: Path, mode: str) -> dict:
    """Each measurement in a fresh process of the same shape (Django set up, nothing else)."""
    env = {**os.environ, "ROOT": str(ROOT)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--layout", choices=["extended", "old"], default="extended")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "operation_log.csv"
        t = time.perf_counter()
        generate(path, args.rows, layout=args.layout)
        print(f"generated {args.rows:,} rows ({args.layout} layout), {path.stat().st_size / 2**20:.1f} MB in {time.perf_counter() - t:.1f} s")
        bare, ours = [], []
        for _ in range(args.runs):
            b = child(path, "bare")
            bare.append(b["rows"] / b["elapsed"])
            result = child(path, "analyse")
            ours.append(result["rows"] / result["elapsed"])
        traced = child(path, "trace")
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"bare csv.reader loop : median {b:,.0f} rows/s over {args.runs} runs")
    print(f"analysis with health : median {o:,.0f} rows/s over {args.runs} runs "
          f"({result['rows']:,} rows, {result['malformed']} malformed, {result['flags']} flags)")
    print(f"account health       : {result['accounts']} accounts, {result['account_days']} account-days, "
          f"{result['health_flags']} health flags")
    print(f"ratio analysis/bare  : {o / b:.2f}  (target >= 0.50)")
    print(f"peak RSS of the analysing process: {result['peak_rss_mb']:.1f} MB (target < 150 MB, includes Django)")
    print(f"tracemalloc peak during analysis : {traced['tracemalloc_peak_mb']:.1f} MB")


if __name__ == "__main__":
    main()
