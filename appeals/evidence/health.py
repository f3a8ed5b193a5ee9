"""Account health from the operation log: per account and day, the five metrics DOMAIN.md names
(add acceptance rate, reply rate, delete/block rate, complaint rate, daily activity), and the
risk flags raised where a day crosses a threshold (settings.HEALTH_THRESHOLDS). Pure, no database.

The analysis loop of appeals.evidence.log_analysis feeds each row into the bucket of its
account and day with a few inlined lines (the hot path); everything else happens here, once a
day changes or at the end. A bucket is a flat list (fast to index in the loop):

    [day token, activity, activity lines, requests sent, lines, requests accepted, lines,
     messages sent, lines, replies, lines, deleted, lines, blocked, lines, complaints, lines,
     day, operator]

Each counter at index k has the line numbers behind it at k + 1 (the first `cap` of them, in a
compact array, held as its bound `append`: the loop calls it directly). Memory is bounded by
accounts x days x (8 x cap) line numbers.

Days are Asia/Shanghai calendar days: the documented layout's times are local already (the date
part of the time column); a time with an explicit UTC offset is converted first.

Old logs stay valid: a log that records none of the outcome events (accepted requests, replies,
deletes, blocks, complaints) cannot give the four rates, which are "not enough data" (None) and
raise no flag; daily activity is always computed.
"""

from array import array
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

ACTIVITY = 1
REQUESTS_SENT, REQUESTS_ACCEPTED, MESSAGES_SENT, REPLIES, DELETED, BLOCKED, COMPLAINTS = 3, 5, 7, 9, 11, 13, 15
DAY, OPERATOR = 17, 18
COUNTERS = {
    "activity": ACTIVITY, "requests_sent": REQUESTS_SENT, "requests_accepted": REQUESTS_ACCEPTED,
    "messages_sent": MESSAGES_SENT, "replies": REPLIES, "deleted": DELETED, "blocked": BLOCKED, "complaints": COMPLAINTS,
}
OUTCOMES = (REQUESTS_ACCEPTED, REPLIES, DELETED, BLOCKED, COMPLAINTS)

# action in the log -> the counter it adds to (docs/evidence.md "Operation log CSV layout").
# The first layout's add_friend / send_message / mass_message count as sent.
HEALTH_ACTIONS = {
    "add_friend": REQUESTS_SENT,
    "friend_request_sent": REQUESTS_SENT,
    "friend_request_accepted": REQUESTS_ACCEPTED,
    "send_message": MESSAGES_SENT,
    "mass_message": MESSAGES_SENT,
    "message_sent": MESSAGES_SENT,
    "message_replied": REPLIES,
    "deleted_by_customer": DELETED,
    "blocked_by_customer": BLOCKED,
    "complaint": COMPLAINTS,
}

# rule -> the metric it watches
RULE_METRIC = {
    "health_accept_low": "acceptance_rate",
    "health_reply_low": "reply_rate",
    "health_delblock_high": "delete_block_rate",
    "health_complaints": "complaint_rate",
    "health_active_spike": "activity",
}
THRESHOLD_KEYS = ("ACCEPTANCE_RATE_MIN", "REPLY_RATE_MIN", "DELETE_BLOCK_RATE_MAX", "COMPLAINT_RATE_MAX",
                  "COMPLAINTS_PER_DAY_MAX", "ACTIVITY_SPIKE_FACTOR", "ACTIVITY_SPIKE_MIN", "MIN_DAILY_SAMPLE",
                  "MAX_LINES_PER_FLAG")
METRICS = ("acceptance_rate", "reply_rate", "delete_block_rate", "complaint_rate", "activity")


class HealthTracker:
    """The buckets of one log, by (account, day)."""

    def __init__(self, cap: int):
        self.cap = cap
        self.buckets: dict[tuple[str, str], list] = {}

    @staticmethod
    def day_of(t: datetime) -> tuple[str, datetime, datetime]:
        """(the row's Asia/Shanghai day, as a fresh token, and its bounds), on a change of day only.
        The loop compares the token by identity: a token stays valid until the day changes."""
        if t.tzinfo is not None:
            start = datetime.combine(t.astimezone(SHANGHAI).date(), time.min, tzinfo=SHANGHAI)
        else:
            start = datetime.combine(t.date(), time.min)
        return start.date().isoformat(), start, start + timedelta(days=1)

    def open(self, operator: str, day: str) -> list:
        """The bucket of this account and day (slow path: its first row of the day)."""
        bucket = self.buckets.get((operator, day))
        if bucket is None:
            bucket = [day]
            for _counter in range(8):
                bucket += (0, array("I").append)  # the bound append: one call less per row
            bucket += (day, operator)
            self.buckets[(operator, day)] = bucket
        bucket[0] = day
        return bucket


def _rate(numerator: int, denominator: int, known: bool):
    return round(numerator / denominator, 4) if known and denominator else None


def _lines(bucket: list, counters: tuple[int, ...]) -> tuple[list[int], int]:
    # each counter kept its first `cap` lines: a flag over two counters may carry 2 x cap
    return sorted(n for k in counters for n in bucket[k + 1].__self__), sum(bucket[k] for k in counters)


def _flag(rule: str, operator: str, bucket: list, counters: tuple[int, ...], value, limit, detail: dict) -> dict:
    """A health flag over the whole day, pointing at the rows behind the numbers."""
    lines, count = _lines(bucket, counters)
    start = datetime.combine(datetime.fromisoformat(bucket[DAY]).date(), time.min)
    return {
        "rule": rule, "operator": operator, "window_start": start,
        "window_end": start + timedelta(days=1) - timedelta(seconds=1), "count": count, "line_numbers": lines,
        "detail": {"day": bucket[DAY], "metric": RULE_METRIC[rule], "value": value, "threshold": limit, **detail},
    }


def _median(values: list[int]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def health_report(tracker: HealthTracker, *, thresholds: dict | None, mask) -> tuple[dict, list[dict]]:
    """(the per-account, per-day metrics as stored on the analysis, the health risk flags);
    without thresholds, the metrics only."""
    raise_flags = thresholds is not None
    thresholds = thresholds or {"MIN_DAILY_SAMPLE": 0, "ACTIVITY_BASELINE_MIN_DAYS": 0}
    buckets = sorted(tracker.buckets.values(), key=lambda b: (b[OPERATOR], b[DAY]))
    known = any(b[k] for b in buckets for k in OUTCOMES)
    min_sample = thresholds["MIN_DAILY_SAMPLE"]
    accounts: list[dict] = []
    flags: list[dict] = []
    by_operator: dict[str, list[list]] = {}
    for b in buckets:
        by_operator.setdefault(b[OPERATOR], []).append(b)

    for operator, days in by_operator.items():
        masked = mask(operator)[:100]
        activity = [b[ACTIVITY] for b in days]
        baseline = _median(activity) if len(days) >= thresholds["ACTIVITY_BASELINE_MIN_DAYS"] else None
        rows: list[dict] = []
        accounts.append({"operator": masked, "days": rows})
        for b in days:
            outreach = b[MESSAGES_SENT] + b[REQUESTS_SENT]
            m = {name: b[k] for name, k in COUNTERS.items()}
            m["day"] = b[DAY]
            m["acceptance_rate"] = _rate(b[REQUESTS_ACCEPTED], b[REQUESTS_SENT], known)
            m["reply_rate"] = _rate(b[REPLIES], b[MESSAGES_SENT], known)
            m["delete_block_rate"] = _rate(b[DELETED] + b[BLOCKED], outreach, known)
            m["complaint_rate"] = _rate(b[COMPLAINTS], outreach, known)
            m["activity_baseline"] = baseline
            rows.append(m)

            def flag(rule, counters, value, limit, _b=b, _who=masked, **detail):
                flags.append(_flag(rule, _who, _b, counters, value, limit, detail))

            if not raise_flags:
                continue
            rate, limit = m["acceptance_rate"], thresholds["ACCEPTANCE_RATE_MIN"]
            if rate is not None and b[REQUESTS_SENT] >= min_sample and rate < limit:
                flag("health_accept_low", (REQUESTS_SENT, REQUESTS_ACCEPTED), rate, limit,
                     sent=b[REQUESTS_SENT], accepted=b[REQUESTS_ACCEPTED])
            rate, limit = m["reply_rate"], thresholds["REPLY_RATE_MIN"]
            if rate is not None and b[MESSAGES_SENT] >= min_sample and rate < limit:
                flag("health_reply_low", (MESSAGES_SENT, REPLIES), rate, limit, sent=b[MESSAGES_SENT], replied=b[REPLIES])
            rate, limit = m["delete_block_rate"], thresholds["DELETE_BLOCK_RATE_MAX"]
            if rate is not None and outreach >= min_sample and rate > limit:
                flag("health_delblock_high", (DELETED, BLOCKED), rate, limit,
                     deleted=b[DELETED], blocked=b[BLOCKED], outreach=outreach)
            rate, limit = m["complaint_rate"], thresholds["COMPLAINT_RATE_MAX"]
            if rate is not None and b[COMPLAINTS] and (
                (outreach >= min_sample and rate > limit) or b[COMPLAINTS] >= thresholds["COMPLAINTS_PER_DAY_MAX"]
            ):
                flag("health_complaints", (COMPLAINTS,), rate, limit, complaints=b[COMPLAINTS], outreach=outreach,
                     complaints_per_day_max=thresholds["COMPLAINTS_PER_DAY_MAX"])
            if (baseline is not None and b[ACTIVITY] >= thresholds["ACTIVITY_SPIKE_MIN"]
                    and b[ACTIVITY] > thresholds["ACTIVITY_SPIKE_FACTOR"] * baseline):
                flag("health_active_spike", (ACTIVITY,), b[ACTIVITY], thresholds["ACTIVITY_SPIKE_FACTOR"] * baseline,
                     baseline=baseline, factor=thresholds["ACTIVITY_SPIKE_FACTOR"])

    health = {
        "outcomes_recorded": known,
        "thresholds": {k: thresholds[k] for k in THRESHOLD_KEYS if k in thresholds},
        "accounts": accounts,
    }
    return health, flags
