"""Hand-made operation logs for the anomaly tests: a calm working week of six accounts, and
the same week with one anomaly injected (its rows are known, so are their line numbers)."""

import random
from datetime import datetime, timedelta

from tests.evidence.files import HEADER

# operator, type, usual IP, usual device
ACCOUNTS = [
    ("wx-ops-1", "operations", "10.0.0.1", "dev-a"),
    ("wx-ops-2", "operations", "10.0.0.2", "dev-b"),
    ("wx-cs-1", "customer_service", "10.0.0.3", "dev-c"),
    ("wx-cs-2", "customer_service", "10.0.0.4", "dev-d"),
    ("wx-dev-1", "developer", "10.0.0.5", "dev-e"),
    ("wx-master", "master", "10.0.0.6", "dev-f"),
]
# per account type: action -> (min, max) per working hour
HOURLY = {
    "operations": {"add_friend": (2, 6), "send_message": (8, 14)},
    "customer_service": {"add_friend": (0, 2), "send_message": (10, 18)},
    "developer": {"api_call": (10, 25), "login": (0, 1)},
    "master": {"add_friend": (1, 3), "send_message": (4, 8), "export_data": (0, 1)},
}
MONDAY = datetime(2026, 11, 16)
BURST_HOUR = datetime(2026, 11, 18, 14)


def _row(t, operator, account_type, action, ip, device, message="收到，谢谢"):
    return (t, operator, account_type, action, "wxid_x", message if action == "send_message" else "", ip, device)


def calm_rows(seed: int = 3) -> list[tuple]:
    rnd = random.Random(seed)
    rows = []
    for day in range(5):
        for hour in range(9, 18):
            start = MONDAY + timedelta(days=day, hours=hour)
            for operator, account_type, ip, device in ACCOUNTS:
                for action, (lo, hi) in HOURLY[account_type].items():
                    for _ in range(rnd.randint(lo, hi)):
                        rows.append(_row(start + timedelta(seconds=rnd.randrange(3600)), operator, account_type, action, ip, device))
    return rows


def render(rows: list[tuple]) -> tuple[str, dict]:
    """The CSV text, and each row's line number (header on line 1), keyed by the row's identity."""
    ordered = sorted(rows, key=lambda r: r[0])
    lines = {id(r): n for n, r in enumerate(ordered, start=2)}
    text = HEADER + "".join(
        f"{r[0]:%Y-%m-%d %H:%M:%S},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]},{r[7]}\n" for r in ordered)
    return text, lines


def calm_log() -> str:
    return render(calm_rows())[0]


def with_burst(kind: str = "adds") -> tuple[str, list[int]]:
    """The calm week plus one anomalous hour; returns the CSV and the injected rows' lines."""
    rows = calm_rows()
    if kind == "adds":  # 60 friend adds by wx-ops-1 in one hour (usually 2-6)
        injected = [_row(BURST_HOUR + timedelta(seconds=50 * i), "wx-ops-1", "operations", "add_friend", "10.0.0.1", "dev-a")
                    for i in range(60)]
    elif kind == "sensitive":  # 15 messages with sensitive words within a minute by wx-ops-2
        injected = [_row(BURST_HOUR + timedelta(minutes=20, seconds=4 * i), "wx-ops-2", "operations", "send_message",
                         "10.0.0.2", "dev-b", message="限时领红包，返利多多") for i in range(15)]
    elif kind == "location":  # wx-cs-1 from a new device and an IP it never used
        injected = [_row(BURST_HOUR + timedelta(minutes=5 * i), "wx-cs-1", "customer_service", "send_message",
                         "203.0.113.77", "dev-stranger") for i in range(6)]
    elif kind == "night_export":  # wx-master exports 30 times at 03:00
        start = datetime(2026, 11, 19, 3)
        injected = [_row(start + timedelta(seconds=90 * i), "wx-master", "master", "export_data", "10.0.0.6", "dev-f")
                    for i in range(30)]
    elif kind == "api_burst":  # a customer-service account calls the API 80 times
        injected = [_row(BURST_HOUR + timedelta(seconds=40 * i), "wx-cs-2", "customer_service", "api_call", "10.0.0.4", "dev-d")
                    for i in range(80)]
    else:
        raise ValueError(kind)
    text, lines = render(rows + injected)
    return text, sorted(lines[id(r)] for r in injected)
