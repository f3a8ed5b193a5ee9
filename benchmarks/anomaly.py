"""Benchmark: anomaly detection in operation logs (appeals/evidence/anomaly.py), labelled logs.

Generates a week of activity by N accounts of the four types (DOMAIN.md isolation model), with
benign noise that a detector must not flag (busy hours, overtime past 22:00, a new IP alone, a
new device alone, developers' nightly batch jobs, marketing accounts that often say 红包), and
injects anomalies of five kinds, each labelled per (account, hour):
  mass_add           55-120 friend adds in one hour (DOMAIN.md: more than 50)
  sensitive_words    12-25 messages with sensitive words within one minute (more than 10)
  location           a new device together with an IP the account never used
  off_hours_export   20-60 data exports between 22:00 and 07:00 (undocumented kind)
  api_burst          50-200 API calls from a customer-service account (undocumented kind)
Prints, per method, precision and recall per kind and overall, and the time to score the log
(feature pass + scoring, and the read for the flagged hours' lines): CPU time of the process
(time.process_time, as in evidence_log_analysis.py: other load on the machine disturbs it less)
and wall time. Per kind: recall = labelled
hours of that kind that were flagged; precision = flagged hours the detector called that kind
(from its strongest driver) that are labelled that kind. Overall: any flag vs any label.

    .venv/bin/python benchmarks/anomaly.py [--accounts 200] [--days 7] [--seed 7] [--methods ...]
    .venv/bin/python benchmarks/anomaly.py --smoke
"""

import argparse
import csv
import math
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

KINDS = ("mass_add", "sensitive_words", "location", "off_hours_export", "api_burst")
START = datetime(2026, 11, 13, 0, 0, 0)
NORMAL = ["你好，请问有什么可以帮您", "Hello, thanks for adding me", "今天的活动详情请查看链接", "收到，马上处理", "好的谢谢",
          "Order #12345 shipped", "明天见", "您好，这是您的订单确认", "请问还有其他问题吗", ""]
SENSITIVE = ["限时优惠，领红包", "加入会员享返利", "免费领取小礼品", "兼职刷单日结"]
# per active hour, Poisson means (times the account's own rate) of each action by type
RATES = {
    "master": {"add_friend": 3, "send_message": 8, "manage_accounts": 0.3, "export_data": 0.1, "api_call": 0.5, "login": 0.3},
    "operations": {"add_friend": 6, "send_message": 12, "mass_message": 0.5, "export_data": 0.05, "login": 0.3},
    "customer_service": {"add_friend": 1, "send_message": 20, "login": 0.3, "view_profile": 1},
    "developer": {"api_call": 20, "export_data": 0.2, "login": 0.3},
}
TYPE_WEIGHTS = (("master", 5), ("operations", 40), ("customer_service", 40), ("developer", 15))


def poisson(rnd: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rnd.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1


def make_accounts(rnd: random.Random, n: int) -> list[dict]:
    types = [t for t, w in TYPE_WEIGHTS for _ in range(w)]
    accounts = []
    for i in range(n):
        typ = types[rnd.randrange(len(types))]
        evening = typ == "customer_service" and rnd.random() < 0.15
        accounts.append({
            "id": f"wx-{i:04d}", "type": typ, "rate": rnd.lognormvariate(0, 0.45),
            "hours": range(13, 22) if evening else range(rnd.choice((8, 9, 10)), rnd.choice((17, 18, 19))),
            "weekend": rnd.random() < 0.3,
            "ips": [f"10.{i % 250}.{j}.{rnd.randrange(2, 250)}" for j in range(rnd.choice((1, 1, 2, 3)))],
            "devices": [f"dev-{i}-{d}" for d in range(rnd.choice((1, 1, 2)))],
            "marketing": rnd.random() < 0.1,  # often writes 红包 / 返利, always has
            "batch": typ == "developer" and rnd.random() < 0.4,  # a nightly job at 02:00
        })
    return accounts


def _rows_for_hour(rnd, acct, hour_start, rates, *, busy=1.0, ip=None, device=None):
    out = []
    for action, lam in rates.items():
        for _ in range(poisson(rnd, lam * acct["rate"] * busy)):
            out.append(_row(rnd, acct, hour_start + timedelta(seconds=rnd.randrange(3600)), action, ip=ip, device=device))
    return out


def _row(rnd, acct, t, action, *, message=None, ip=None, device=None):
    if message is None:
        message = ""
        if action in ("send_message", "mass_message", "add_friend"):
            p = 0.04 if acct["marketing"] else 0.005
            message = rnd.choice(SENSITIVE) if rnd.random() < p else rnd.choice(NORMAL)
    return (t, acct["id"], acct["type"], action, f"wxid_{rnd.randrange(10**6)}", message,
            ip or rnd.choice(acct["ips"]), device or rnd.choice(acct["devices"]))


def generate(path: Path, *, accounts: int, days: int, seed: int, events_per_kind: int | None = None) -> dict:
    """Write the log; return the labels {(operator, hour start): kind}."""
    rnd = random.Random(seed)
    accts = make_accounts(rnd, accounts)
    rows = []
    for day in range(days):
        date = START + timedelta(days=day)
        weekend = date.weekday() >= 5
        for acct in accts:
            if weekend and not acct["weekend"]:
                continue
            busy_hour = rnd.choice(list(acct["hours"])) if rnd.random() < 0.1 else None
            overtime = rnd.random() < 0.04
            hours = list(acct["hours"]) + ([acct["hours"][-1] + 1, acct["hours"][-1] + 2] if overtime else [])
            for hod in hours:
                if hod > 23:
                    continue
                start = date + timedelta(hours=hod)
                rows += _rows_for_hour(rnd, acct, start, RATES[acct["type"]], busy=1.8 if hod == busy_hour else 1.0)
                if rnd.random() < 0.01:  # a mobile hop: a new IP alone, for a few rows
                    new_ip = f"100.{rnd.randrange(64, 128)}.{rnd.randrange(256)}.{rnd.randrange(256)}"
                    rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)), "send_message", ip=new_ip)
                             for _ in range(rnd.randint(1, 4))]
                if rnd.random() < 0.003:  # a new phone on the office network: a new device alone
                    rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)), "login",
                                  device=f"dev-new-{rnd.randrange(10**6)}")]
            if acct["batch"]:
                rows += _rows_for_hour(rnd, acct, date + timedelta(hours=2), {"api_call": 60})

    labels = {}
    n_events = events_per_kind or max(3, accounts // 10)

    def pick(types, off_hours=False):
        for _ in range(1000):
            acct = rnd.choice(accts)
            if acct["type"] not in types:
                continue
            day = rnd.randrange(days)
            hod = rnd.choice((22, 23, 0, 1, 2, 3, 4, 5, 6)) if off_hours else rnd.choice(list(acct["hours"]))
            start = START + timedelta(days=day, hours=hod)
            if (acct["id"], start) not in labels:
                return acct, start
        raise RuntimeError("no free hour to inject into")

    for kind in KINDS:
        for _ in range(n_events):
            if kind == "mass_add":
                acct, start = pick(("master", "operations", "customer_service"))
                rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)), "add_friend")
                         for _ in range(rnd.randint(55, 120))]
            elif kind == "sensitive_words":
                acct, start = pick(("master", "operations", "customer_service"))
                minute = start + timedelta(seconds=rnd.randrange(3540))
                rows += [_row(rnd, acct, minute + timedelta(seconds=rnd.randrange(60)), "send_message",
                              message=rnd.choice(SENSITIVE)) for _ in range(rnd.randint(12, 25))]
            elif kind == "location":
                acct, start = pick(("master", "operations", "customer_service", "developer"))
                ip, device = f"203.0.{rnd.randrange(113, 120)}.{rnd.randrange(256)}", f"dev-x-{rnd.randrange(10**6)}"
                rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)),
                              rnd.choice(("login", "send_message", "add_friend")), ip=ip, device=device)
                         for _ in range(rnd.randint(3, 15))]
            elif kind == "off_hours_export":
                acct, start = pick(("master", "operations", "developer"), off_hours=True)
                rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)), "export_data")
                         for _ in range(rnd.randint(20, 60))]
            else:
                acct, start = pick(("customer_service",))
                rows += [_row(rnd, acct, start + timedelta(seconds=rnd.randrange(3600)), "api_call")
                         for _ in range(rnd.randint(50, 200))]
            labels[(acct["id"], start)] = kind

    rows.sort(key=lambda r: r[0])
    with open(path, "w", encoding="utf-8", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["time", "operator", "account_type", "action", "target", "message", "ip", "device_id"])
        for r in rows:
            w.writerow((r[0].strftime("%Y-%m-%d %H:%M:%S"), *r[1:]))
    return {"labels": labels, "rows": len(rows)}


def evaluate(flagged: list[dict], labels: dict) -> dict:
    predicted = {(f["operator"], f["hour"]): f["kind"] for f in flagged}
    out = {}
    for kind in KINDS:
        truth = {k for k, v in labels.items() if v == kind}
        called = {k for k, v in predicted.items() if v == kind}
        out[kind] = {
            "recall": len(truth & set(predicted)) / len(truth) if truth else float("nan"),
            "precision": len(called & truth) / len(called) if called else float("nan"),
            "labelled": len(truth), "called": len(called),
        }
    hits = set(predicted) & set(labels)
    out["overall"] = {"recall": len(hits) / len(labels) if labels else float("nan"),
                      "precision": len(hits) / len(predicted) if predicted else float("nan"),
                      "labelled": len(labels), "called": len(predicted)}
    out["false_positives"] = sorted(
        (k[0], k[1].isoformat(), v, [d["feature"] for d in f["drivers"]])
        for f in flagged for k, v in [((f["operator"], f["hour"]), f["kind"])] if k not in labels)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="timing runs of the chosen method (median)")
    parser.add_argument("--methods", nargs="+", default=["robust_z", "isolation_forest", "isolation_forest_raw", "both"])
    parser.add_argument("--forest-thresholds", nargs="*", type=float, default=[0.55, 0.6, 0.65, 0.7])
    parser.add_argument("--smoke", action="store_true", help="tiny size, one run (benchmarks/smoke.py)")
    parser.add_argument("--show-fp", type=int, default=10, help="print this many false positives of the chosen method")
    opts = parser.parse_args()
    if opts.smoke:
        opts.accounts, opts.days, opts.runs, opts.forest_thresholds = 20, 2, 1, []

    import django

    django.setup()
    from django.conf import settings

    from appeals.evidence.anomaly import detect_anomalies

    rules, config = settings.EVIDENCE_LOG_RULES, settings.EVIDENCE_ANOMALY
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        started = time.perf_counter()
        gen = generate(path, accounts=opts.accounts, days=opts.days, seed=opts.seed)
        labels = {(op, hour): kind for (op, hour), kind in gen["labels"].items()}
        print(f"log: {opts.accounts} accounts x {opts.days} days, {gen['rows']:,} rows, {path.stat().st_size / 1e6:.1f} MB, "
              f"{len(labels)} anomalous account-hours injected ({len(labels) // len(KINDS)} per kind); "
              f"generated in {time.perf_counter() - started:.1f} s")
        chosen = config["METHOD"]
        variants = [(m, None) for m in opts.methods]
        variants += [("isolation_forest", t) for t in opts.forest_thresholds if "isolation_forest" in opts.methods]
        for method, threshold in variants:
            cfg = config if threshold is None else {**config, "ISOLATION_FOREST": {**config["ISOLATION_FOREST"], "THRESHOLD": threshold}}
            times = []
            for _ in range(opts.runs if method == chosen and threshold is None else 1):
                with open(path, "rb") as fp:
                    t0, c0 = time.perf_counter(), time.process_time()
                    report = detect_anomalies(fp, rules=rules, config=cfg, method=method)
                    times.append((time.perf_counter() - t0, report.seconds_features, report.seconds_scoring,
                                  time.process_time() - c0, report.seconds_lines))
            times.sort()
            total, feat, scoring, cpu, lines = times[len(times) // 2]
            res = evaluate(report.flagged, labels)
            label = method + (f" (threshold {threshold})" if threshold is not None else "")
            print(f"\n== {label}{'  [chosen: settings.EVIDENCE_ANOMALY METHOD]' if method == chosen and threshold is None else ''}")
            print(f"   {report.account_hours:,} account-hours scored; CPU {cpu:.2f} s, wall {total:.2f} s "
                  f"(features {feat:.2f} s + scoring {scoring:.2f} s + lines {lines:.2f} s)")
            print(f"   {'kind':18s} {'precision':>9s} {'recall':>7s} {'labelled':>8s} {'called':>6s}")
            for kind in (*KINDS, "overall"):
                r = res[kind]
                print(f"   {kind:18s} {r['precision']:9.2f} {r['recall']:7.2f} {r['labelled']:8d} {r['called']:6d}")
            if method == chosen and threshold is None:
                ok = res["overall"]["recall"] >= 0.9 and res["overall"]["precision"] >= 0.8 and cpu < 2.0
                print(f"   target (recall >= 0.9 at precision >= 0.8, under 2 s of CPU): {'met' if ok else 'NOT met'}")
                for fp_row in res["false_positives"][: opts.show_fp]:
                    print(f"   false positive: {fp_row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
