"""Fixtures of the platform suite: a local WeCom stand-in on an ephemeral port, and its records."""

import time

import pytest

from tests.platform.wecom_server import WeComStandIn

CORP_ID, CORP_SECRET = "ww0123456789abcdef", "s3cret-app-secret-0001"


@pytest.fixture
def wecom():
    server = WeComStandIn(corp_id=CORP_ID, corp_secret=CORP_SECRET).start()
    yield server
    server.stop()


def seed_incident_week(server: WeComStandIn, *, ban: int) -> dict:
    """The 7 days before a ban as WeCom would tell them: a burst of 60 adds in 40 minutes, a usual
    IP then a new-device login from an unfamiliar one, the platform's ban; some admin changes.
    Returns the counts by kind."""
    day = 86400
    base = ban - 3 * day
    server.add("member", time=ban - 6 * day, userid="wx-sales-01", oper_type=13, detail_info="iPad", ip="10.0.0.8")
    for i in range(60):
        server.add("member", time=base + i * 40, userid="wx-sales-01", oper_type=1, detail_info=f"wm-ext-{i:03d}", ip="10.0.0.8")
    server.add("member", time=base + 3600 * 5, userid="wx-sales-01", oper_type=2, detail_info="wm-ext-007", ip="10.0.0.8")
    server.add("member", time=ban - 2 * day, userid="wx-sales-01", oper_type=4, detail_info="Windows PC", ip="203.0.113.9")
    server.add("member", time=ban - 600, userid="wx-sales-01", oper_type=9, detail_info="因被多次投诉已被限制使用", ip="")
    server.add("member", time=ban - 5 * day, userid="wx-cs-02", oper_type=11, detail_info="昵称", ip="10.0.0.9")
    # Outside the window: never asked for.
    server.add("member", time=ban - 8 * day, userid="wx-sales-01", oper_type=1, detail_info="old", ip="10.0.0.8")
    for i in range(3):
        server.add("admin", time=ban - 4 * day + i, userid="boss", oper_type=3, detail_info=f"成员变更 {i}", ip="10.0.0.1")
    return {"member": 65, "admin": 3}


def now() -> int:
    return int(time.time())
