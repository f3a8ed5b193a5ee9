"""Benchmark smoke (`make bench-smoke`, part of `make test`): every benchmark script runs once
with tiny sizes, so a script that no longer matches the code or the schema fails in CI.

The figures printed at these sizes mean nothing; only "does it still run" is checked. Scripts
that need PostgreSQL get scratch databases named bench_smoke_<id>_* (created here or by the
script, dropped at the end), never the developer's database nor appeals_sla_bench; Redis is
BENCH_SMOKE_REDIS_URL (default db 13). One line per script: status, seconds. Exit 1 if any
script fails, times out, or has no smoke size below.

    .venv/bin/python benchmarks/smoke.py [-v] [script ...]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("BENCH_SMOKE_PG", "postgres://postgres@127.0.0.1:5432")
RUN_ID = os.environ.get("BENCH_SMOKE_ID", str(os.getpid()))
DB = f"bench_smoke_{RUN_ID}"
REDIS_URL = os.environ.get("BENCH_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/13")
TIMEOUT = int(os.environ.get("BENCH_SMOKE_TIMEOUT", "120"))

# Modules the scripts import, not benchmarks themselves.
HELPERS = {"smoke.py", "sla_common.py", "surge_common.py", "bench_schema.py", "intake.py", "load_backends.py"}

# script -> (arguments, extra environment). Order matters: sla_reports reads what sla_generate built.
SMOKE = {
    "sla_generate.py": (["--appeals", "200", "--enterprises", "20", "--accounts-per-enterprise", "5", "--reviewers", "4"],
                        {"SLA_BENCH_DB": f"{DB}_sla"}),
    "sla_reports.py": (["--runs", "2", "--big-runs", "2"], {"SLA_BENCH_DB": f"{DB}_sla"}),
    "surge_scan.py": (["2", "--sizes", "300", "600", "--recent", "150", "--current", "30", "--enterprises", "2"],
                      {"BENCH_DATABASE_URL": f"{PG}/{DB}_surge"}),
    "surge_submission.py": (["5"], {"BENCH_DATABASE_URL": f"{PG}/{DB}_surge"}),
    "notifications_throughput.py": (["--messages", "10", "--runs", "1", "--submits", "3"],
                                    {"BENCH_DATABASE_URL": f"{PG}/{DB}_notifications",
                                     "BENCH_NOTIFICATIONS_QUEUE": f"bench-smoke-{RUN_ID}"}),
    "api_list.py": (["6", "--repeat", "2"], {"TEST_DB_NAME": f"{DB}_api"}),
    "batch_review.py": (["--appeals", "6", "--enterprises", "2"], {"TEST_DB_NAME": f"{DB}_batch"}),
    "evidence_log_analysis.py": (["--rows", "2000", "--runs", "1"], {}),
    "anomaly.py": (["--smoke"], {}),
    "evidence_upload.py": (["--runs", "1", "--small-mb", "1", "--big-mb", "2"], {}),
    "lists.py": (["--sizes", "300", "600", "--repeat", "2", "--throughput", "300", "--seconds", "1", "--rounds", "1"],
                 {"BENCH_DATABASE_URL": f"{PG}/{DB}_lists"}),
    "metrics_scrape.py": (["--appeals", "300", "--open", "30", "--messages", "100", "--backlog", "10", "--runs", "2"],
                          {"BENCH_DATABASE_URL": f"{PG}/{DB}_metrics"}),
    "backup.py": (["--appeals", "30"], {"BENCH_DATABASE_URL": f"{PG}/{DB}_backup"}),
    # The whole topology (nginx, two web nodes, two workers, beat, moto) for a few seconds of load;
    # its scratch database is load_topology_<pid>_2, dropped by the script.
    "load_topology.py": (["--smoke", "--dir", f"/tmp/bench-smoke-{RUN_ID}-load"],
                         {"LOAD_PORT_BASE": os.environ.get("BENCH_SMOKE_LOAD_PORT_BASE", "19350")}),
}
DATABASES = [f"{DB}_sla", f"{DB}_surge", f"{DB}_notifications", f"{DB}_api", f"{DB}_batch", f"{DB}_lists", f"{DB}_metrics", f"{DB}_backup",
             f"{DB}_backup_restored"]

# Whatever points a script at a developer's database or Redis is not inherited.
SCRUBBED = {"DATABASE_URL", "REDIS_URL", "TEST_DB_NAME", "DJANGO_SETTINGS_MODULE", "BENCH_DATABASE_URL", "SLA_BENCH_DB",
            "CELERY_BROKER_URL", "TEST_WORKER_DATABASE_NAME", "NOTIFICATIONS_QUEUE"}


def drop_databases():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for name in DATABASES:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(script: str, verbose: bool) -> tuple[bool, float, str]:
    args, extra = SMOKE[script]
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update({"REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1", **extra})
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT, env=env, timeout=TIMEOUT,
                              stdout=None if verbose else subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return False, time.perf_counter() - started, f"timed out after {TIMEOUT} s\n{out}"
    return proc.returncode == 0, time.perf_counter() - started, proc.stdout or ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scripts", nargs="*", help="only these (default: every script in benchmarks/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show each script's output")
    opts = parser.parse_args()
    found = sorted(p.name for p in HERE.glob("*.py") if p.name not in HELPERS)
    unknown = [s for s in found if s not in SMOKE]
    wanted = [s for s in SMOKE if not opts.scripts or s in opts.scripts]
    failures = 0
    for script in unknown:
        print(f"FAIL  {script:30s}    0.0 s  no smoke size: add it to SMOKE in benchmarks/smoke.py", flush=True)
        failures += 1
    started = time.perf_counter()
    try:
        for script in wanted:
            if not (HERE / script).exists():
                print(f"FAIL  {script:30s}    0.0 s  listed in SMOKE but missing", flush=True)
                failures += 1
                continue
            ok, seconds, output = run(script, opts.verbose)
            print(f"{'ok  ' if ok else 'FAIL'}  {script:30s} {seconds:6.1f} s", flush=True)
            if not ok:
                failures += 1
                tail = output.strip().splitlines()[-25:]
                print("\n".join(f"      | {line}" for line in tail), flush=True)
    finally:
        drop_databases()
    print(f"bench-smoke: {len(wanted) + len(unknown) - failures} ok, {failures} failed, {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
