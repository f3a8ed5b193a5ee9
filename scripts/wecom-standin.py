#!/usr/bin/env python3
"""Run the local WeCom stand-in (tests/platform/wecom_server.py) with a week of demo records, to
try the platform pull with `make run`:

    .venv/bin/python scripts/wecom-standin.py --port 18001 &
    WECOM_API_BASE=http://127.0.0.1:18001 make run

then, as an enterprise admin: Account menu -> WeCom connection (corp ID and secret printed
below), and on a draft appeal's page "Pull records from WeCom". The demo records cover the 8 days
before now, so any ban of the last few hours has its week: 60 adds within 40 minutes, a
new-device login from an unfamiliar IP, and a login ban ten minutes ago.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.platform.wecom_server import WeComStandIn  # noqa: E402


def seed(server: WeComStandIn, now: int) -> int:
    day = 86400
    base = now - 3 * day
    server.add("member", time=now - 6 * day, userid="wx-sales-01", oper_type=13, detail_info="iPad", ip="10.0.0.8")
    for i in range(60):
        server.add("member", time=base + i * 40, userid="wx-sales-01", oper_type=1, detail_info=f"wm-ext-{i:03d}", ip="10.0.0.8")
    server.add("member", time=now - 2 * day, userid="wx-sales-01", oper_type=4, detail_info="Windows PC", ip="203.0.113.9")
    server.add("member", time=now - 600, userid="wx-sales-01", oper_type=9, detail_info="因被多次投诉已被限制使用")
    server.add("admin", time=now - 4 * day, userid="boss", oper_type=3, detail_info="成员变更", ip="10.0.0.1")
    return 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18001)
    parser.add_argument("--corp-id", default="ww-demo-corp")
    parser.add_argument("--corp-secret", default="demo-app-secret")
    parser.add_argument("--page-size", type=int, default=25, help="records per page (WeCom's maximum is 400)")
    args = parser.parse_args()
    server = WeComStandIn(corp_id=args.corp_id, corp_secret=args.corp_secret, host=args.host, port=args.port,
                          page_size=args.page_size)
    n = seed(server, int(time.time()))
    server.start()
    print(f"WeCom stand-in on {server.url}: {n} demo records\n"
          f"  export WECOM_API_BASE={server.url}\n  corp ID {args.corp_id}, secret {args.corp_secret}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
