"""Anomaly detection in an operation log: hours of one account's activity that stand out from
that account's own baseline and from its peers' (same account type) in the same log.

Pure (no database; the feature labels are lazy translations): `detect_anomalies(raw, rules=...,
config=...)` reads the documented CSV layout (appeals.evidence.log_analysis) in a streaming pass
of its own (the risk rules' hot loop is left alone), builds one feature
vector per (account, hour), scores it, and reads the log once more for the lines of the hours
it flagged. Memory is bounded by accounts x active hours (plus, per account, its distinct IPs and
devices), never by rows.

Features per account-hour (settings.EVIDENCE_ANOMALY["FEATURES"]): friend adds, messages,
sensitive-word hits, distinct IPs, distinct devices, unfamiliar IPs, unfamiliar devices, hours
with an unfamiliar device *and* an unfamiliar IP (DOMAIN.md's location anomaly), API calls,
exports, and actions taken off-hours (22:00-07:00 Asia/Shanghai). The issue's "off-hours share"
is carried as this count: with hour-aligned boundaries an hour's share is 0 or 1, so the count
is what carries the information, and the account's share over the log is its baseline. An IP or
device is unfamiliar to an account when it appears in at most RARE_MAX_HOURS of the account's
active hours and in at most RARE_MAX_SHARE of them (an account with few hours has nothing
unfamiliar: there is no baseline to differ from).

Scoring, chosen by measurement (benchmarks/anomaly.py, 7 days x 200 accounts, five injected
kinds): a one-sided robust z-score per feature, (value - median) / max(1.4826 * MAD, sqrt(median),
MIN_SCALE[feature]), against the account's own active hours and against its peer group (same
account type in this log); an account with at least MIN_ACCOUNT_HOURS active hours keeps the
smaller of the two (unusual for itself *and* for its kind of account), a newer one is judged by
its peers only. Where the account has a habit at that time of day (HABIT_MIN_HOURS active hours in
working hours, or off-hours), the hour must be unusual against that habit too: a developer's
nightly batch job is usual at night. The hour's score is its largest feature z; at Z_THRESHOLD or
more it is flagged.
The floors make sparse features (exports, API calls, sensitive hits: MAD 0) meaningful and the
sqrt(median) floor keeps Poisson noise of busy accounts below the threshold.
scikit-learn's IsolationForest (on the same z matrix, or on log1p of the raw features) is
implemented as METHOD "isolation_forest" / "isolation_forest_raw" and "both" (forest AND z >= MIN_Z)
for the comparison. Measured (benchmarks/anomaly.py, 200 accounts x 7 days, 233k rows, 100
injected hours): robust z recall 1.00 at precision 0.97, scoring 0.01-0.1 s; the forest on the z
matrix recall 0.53 at precision 0.54 at its threshold, at best recall 0.86 at precision 0.33
(threshold 0.55), scoring 0.5-4.8 s; "both" precision 0.84 at recall 0.53. The forest ranks by
how rare a combination is in the whole log, and benign rare hours (an overtime evening, a busy
marketing hour) are as rare as the injected ones, while a one-feature burst by one account is
not much easier to isolate than many mild ones. So METHOD is "robust_z". Whichever method
flags an hour, the explanation is the same: the features whose z reached DRIVER_Z, shown as
"value vs usual" (the account's median) and the peers' median.
"""

import csv
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from appeals.evidence.log_analysis import open_log_text
from appeals.shared.masking import mask_id_numbers

# Raw counters gathered per account-hour in the pass, in this order.
_ADDS, _MESSAGES, _SENSITIVE, _IPS, _DEVICES, _API, _EXPORTS, _ROWS = range(8)
_RAW = 8
FEATURES = ("adds", "messages", "sensitive_hits", "ips", "devices", "new_ips", "new_devices",
            "new_device_with_new_ip", "api_calls", "exports", "off_hours_actions")
FEATURE_LABELS = {
    "adds": _("friend adds"),
    "messages": _("messages"),
    "sensitive_hits": _("sensitive-word hits"),
    "ips": _("distinct IP addresses"),
    "devices": _("distinct devices"),
    "new_ips": _("unfamiliar IP addresses"),
    "new_devices": _("unfamiliar devices"),
    "new_device_with_new_ip": _("unfamiliar device with an unfamiliar IP"),
    "api_calls": _("API calls"),
    "exports": _("data exports"),
    "off_hours_actions": _("actions off-hours (22:00-07:00)"),
}
# What a flagged hour most looks like, from its strongest driver (the five benchmark kinds + other).
FEATURE_KIND = {
    "adds": "mass_add", "sensitive_hits": "sensitive_words", "new_ips": "location", "new_devices": "location",
    "new_device_with_new_ip": "location", "ips": "location", "devices": "location", "api_calls": "api_burst",
    "exports": "bulk_export", "messages": "message_burst", "off_hours_actions": "off_hours_activity",
}
# Actions behind each feature, for picking a flagged hour's lines (the driver's lines first).
FEATURE_ACTIONS = {"adds": "ADD_ACTIONS", "messages": "MESSAGE_ACTIONS", "api_calls": "API_ACTIONS",
                   "exports": "EXPORT_ACTIONS"}


@dataclass
class AnomalyReport:
    method: str = ""
    accounts: int = 0
    account_hours: int = 0
    rows: int = 0
    flagged: list = field(default_factory=list)
    seconds_features: float = 0.0
    seconds_scoring: float = 0.0
    seconds_lines: float = 0.0
    error: str = ""

    def summary(self) -> dict:
        return {"method": self.method, "accounts": self.accounts, "account_hours": self.account_hours,
                "rows": self.rows, "flagged": len(self.flagged), "error": self.error,
                "seconds": round(self.seconds_features + self.seconds_scoring + self.seconds_lines, 3)}


def is_off_hours(hour_of_day: int, window: Iterable[int]) -> bool:
    start, end = window  # [start, end) wrapping midnight: (22, 7) is 22:00-06:59
    return hour_of_day >= start or hour_of_day < end if start > end else start <= hour_of_day < end


@dataclass
class HourFeatures:
    """The feature matrix: one row per account-hour in which the account did anything."""

    operators: list  # account index -> operator id (raw, masked only when reported)
    account_types: list  # account index -> account type
    account: "object"  # numpy int array (n,)
    hour: "object"  # numpy int array (n,): absolute hour (proleptic ordinal * 24 + hour of day)
    X: "object"  # numpy float array (n, len(FEATURES))
    rows: int = 0
    # per account: (unfamiliar IPs, unfamiliar devices), to point at their lines
    unfamiliar: dict = field(default_factory=dict)


class _Text:
    """The log as text for one pass; detached afterwards, so that the caller's file stays open
    for the next pass (a TextIOWrapper closes what it wraps when it is collected)."""

    def __init__(self, raw, rules: dict):
        self.raw, self.cap = raw, rules["MAX_DECOMPRESSED_BYTES"]

    def __enter__(self):
        self.text, _encoding, _capped = open_log_text(self.raw, max_decompressed=self.cap)
        return self.text

    def __exit__(self, *exc):
        self.text.detach()


def extract_features(raw, *, rules: dict, config: dict) -> HourFeatures:
    """One streaming pass: per account, the current hour's counters and its IPs/devices with the
    number of distinct hours each was seen in. Rows the risk rules count as malformed are skipped."""
    with _Text(raw, rules) as text:
        return _extract(text, rules=rules, config=config)


def _extract(text, *, rules: dict, config: dict) -> HourFeatures:
    import numpy as np

    account_types = frozenset(rules["ACCOUNT_TYPE_PERMISSIONS"])
    action_index = {}
    for action in rules["ADD_ACTIONS"]:
        action_index[action] = _ADDS
    for action in config["MESSAGE_ACTIONS"]:
        action_index[action] = _MESSAGES
    for action in config["API_ACTIONS"]:
        action_index[action] = _API
    for action in config["EXPORT_ACTIONS"]:
        action_index[action] = _EXPORTS
    words = [w for w in rules["SENSITIVE_WORDS"] if w]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)")
    search, findall = pattern.search, pattern.findall
    fromiso = datetime.fromisoformat
    keep_hours = config["RARE_MAX_HOURS"]
    # operator -> [index, type, current hour, current counters, {hour: counters}, {ip: [hours, last]}, {dev: [...]}]
    state: dict[str, list] = {}
    operators, types = [], []
    reader = csv.reader(text)
    last_ts, h = None, 0
    rows = 0
    while True:
        try:
            for row in reader:
                if len(row) != 8:
                    continue
                ts, operator, account_type, action, _target, message, ip, device = row
                if account_type not in account_types or not operator:
                    continue
                if ts != last_ts:
                    try:
                        t = fromiso(ts)
                    except ValueError:
                        continue
                    last_ts = ts
                    h = t.toordinal() * 24 + t.hour
                st = state.get(operator)
                if st is None:
                    st = state[operator] = [len(operators), account_type, None, None, {}, {}, {}]
                    operators.append(operator)
                    types.append(account_type)
                if st[2] != h:
                    counters = st[4].get(h)
                    if counters is None:
                        counters = st[4][h] = [0] * _RAW
                    st[2], st[3] = h, counters
                else:
                    counters = st[3]
                rows += 1
                counters[_ROWS] += 1
                index = action_index.get(action)
                if index is not None:
                    counters[index] += 1
                if message and search(message):
                    counters[_SENSITIVE] += len(findall(message))
                # [distinct hours seen, last hour, its first hours (enough to place an unfamiliar one)]
                seen = st[5].get(ip)
                if seen is None:
                    st[5][ip] = [1, h, [h]]
                    counters[_IPS] += 1
                elif seen[1] != h:
                    seen[0] += 1
                    seen[1] = h
                    if seen[0] <= keep_hours:
                        seen[2].append(h)
                    counters[_IPS] += 1
                seen = st[6].get(device)
                if seen is None:
                    st[6][device] = [1, h, [h]]
                    counters[_DEVICES] += 1
                elif seen[1] != h:
                    seen[0] += 1
                    seen[1] = h
                    if seen[0] <= keep_hours:
                        seen[2].append(h)
                    counters[_DEVICES] += 1
            break
        except csv.Error:
            continue

    n = sum(len(st[4]) for st in state.values())
    account = np.empty(n, dtype=np.int64)
    hour = np.empty(n, dtype=np.int64)
    counts = np.empty((n, _RAW), dtype=np.float64)
    i = 0
    for st in state.values():
        buckets = st[4]
        k = len(buckets)
        account[i:i + k] = st[0]
        hour[i:i + k] = list(buckets)
        counts[i:i + k] = list(buckets.values())
        i += k
    X = np.zeros((n, len(FEATURES)), dtype=np.float64)
    col = {name: j for j, name in enumerate(FEATURES)}
    for name, raw_index in (("adds", _ADDS), ("messages", _MESSAGES), ("sensitive_hits", _SENSITIVE), ("ips", _IPS),
                            ("devices", _DEVICES), ("api_calls", _API), ("exports", _EXPORTS)):
        X[:, col[name]] = counts[:, raw_index]
    off = np.array([is_off_hours(d, config["OFF_HOURS"]) for d in range(24)])
    X[:, col["off_hours_actions"]] = np.where(off[hour % 24], counts[:, _ROWS], 0.0)

    # Unfamiliar IPs and devices: seen in few of the account's active hours (their hours were kept).
    unfamiliar = {}
    max_hours, max_share = config["RARE_MAX_HOURS"], config["RARE_MAX_SHARE"]
    new_ips, new_devs = col["new_ips"], col["new_devices"]
    start = 0
    for st in state.values():
        active = len(st[4])
        where = {hh: start + j for j, hh in enumerate(st[4])}
        start += active
        rare = []
        for values, column in ((st[5], new_ips), (st[6], new_devs)):
            found = set()
            for value, (n_hours, _last, hours) in values.items():
                if n_hours <= max_hours and n_hours <= max_share * active:
                    found.add(value)
                    for hh in hours:
                        X[where[hh], column] += 1
            rare.append(found)
        if rare[0] or rare[1]:
            unfamiliar[st[0]] = (rare[0], rare[1])
    X[:, col["new_device_with_new_ip"]] = (X[:, new_ips] > 0) & (X[:, new_devs] > 0)
    return HourFeatures(operators=operators, account_types=types, account=account, hour=hour, X=X, rows=rows,
                        unfamiliar=unfamiliar)


def _group_median_mad(values, groups, n_groups):
    """Per group and per column: median and MAD (numpy, sort-based; groups are 0..n_groups-1)."""
    import numpy as np

    n, f = values.shape
    order_g = np.argsort(groups, kind="stable")
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    med = np.zeros((n_groups, f))
    mad = np.zeros((n_groups, f))
    present = sizes > 0
    lo = (starts + (sizes - 1) // 2)[present]
    hi = (starts + sizes // 2)[present]
    g_sorted = groups[order_g]
    for j in range(f):
        v = values[order_g, j]
        o = np.lexsort((v, g_sorted))
        vs = v[o]
        med[present, j] = (vs[lo] + vs[hi]) / 2
        dev = np.abs(v - med[g_sorted, j])
        ds = dev[np.lexsort((dev, g_sorted))]
        mad[present, j] = (ds[lo] + ds[hi]) / 2
    return med, mad, sizes


def robust_z(features: HourFeatures, *, config: dict):
    """(Z, account medians per row, peer medians per row): one-sided robust z per feature."""
    import numpy as np

    X, account = features.X, features.account
    n_accounts = len(features.operators)
    type_names = sorted(set(features.account_types))
    type_of_account = np.array([type_names.index(t) for t in features.account_types], dtype=np.int64)
    peer = type_of_account[account] if len(account) else account
    min_scale = np.array([config["FEATURES"][name] for name in FEATURES])
    med_a, mad_a, hours_a = _group_median_mad(X, account, n_accounts)
    med_p, mad_p, _ = _group_median_mad(X, peer, len(type_names))

    def z_against(med, mad):
        scale = np.maximum(np.maximum(1.4826 * mad, np.sqrt(med)), min_scale)
        return np.clip((X - med) / scale, 0.0, None)

    usual, peers = med_a[account], med_p[peer]
    z_account = z_against(usual, mad_a[account])
    z_peer = z_against(peers, mad_p[peer])
    seasoned = (hours_a[account] >= config["MIN_ACCOUNT_HOURS"])[:, None]
    Z = np.where(seasoned, np.minimum(z_account, z_peer), z_peer)
    # The account's habit at this time of day: a developer's nightly batch is usual *at night*.
    off = np.array([is_off_hours(d, config["OFF_HOURS"]) for d in range(24)], dtype=np.int64)
    daypart = account * 2 + off[features.hour % 24]
    med_d, mad_d, hours_d = _group_median_mad(X, daypart, n_accounts * 2)
    habit = (hours_d[daypart] >= config["HABIT_MIN_HOURS"])[:, None]
    Z = np.where(habit, np.minimum(Z, z_against(med_d[daypart], mad_d[daypart])), Z)
    usual = np.where(habit, med_d[daypart], usual)
    return Z, usual, peers


def isolation_scores(matrix, *, config: dict):
    """IsolationForest anomaly scores in [0, 1] (higher: easier to isolate). Lazy import: the
    web process never loads scikit-learn unless an analysis runs with this method."""
    from sklearn.ensemble import IsolationForest

    params = config["ISOLATION_FOREST"]
    forest = IsolationForest(n_estimators=params["N_ESTIMATORS"], max_samples=min(params["MAX_SAMPLES"], len(matrix)),
                             random_state=params["RANDOM_STATE"])
    forest.fit(matrix)
    return -forest.score_samples(matrix)


def score(features: HourFeatures, *, config: dict, method: str | None = None):
    """The flagged rows' indices, their scores, and (Z, usual, peers) for the explanation."""
    import numpy as np

    method = method or config["METHOD"]
    if not len(features.account):
        empty = np.zeros((0, len(FEATURES)))
        return np.zeros(0, dtype=np.int64), np.zeros(0), (empty, empty, empty)
    Z, usual, peers = robust_z(features, config=config)
    zmax = Z.max(axis=1)
    if method == "robust_z":
        flagged = zmax >= config["Z_THRESHOLD"]
        scores = zmax
    elif method in ("isolation_forest", "isolation_forest_raw", "both"):
        matrix = np.log1p(features.X) if method == "isolation_forest_raw" else Z
        forest = isolation_scores(matrix, config=config)
        flagged = forest >= config["ISOLATION_FOREST"]["THRESHOLD"]
        if method == "both":
            flagged &= zmax >= config["ISOLATION_FOREST"]["MIN_Z"]
        scores = forest
    else:
        raise ValueError(f"unknown anomaly method {method!r}")
    rows = np.flatnonzero(flagged)
    order = rows[np.argsort(-scores[rows], kind="stable")][: config["MAX_FLAGGED_HOURS"]]
    return order, scores[order], (Z, usual, peers)


def _hour_start(absolute_hour: int) -> datetime:
    day, hour_of_day = divmod(int(absolute_hour), 24)
    return datetime.fromordinal(day).replace(hour=hour_of_day)


def _kind(drivers: list[dict], off_hours: bool) -> str:
    names = [d["feature"] for d in drivers]
    if "exports" in names and off_hours:
        return "off_hours_export"
    return FEATURE_KIND.get(names[0], "unusual_activity") if names else "unusual_activity"


def explain(features: HourFeatures, rows, scores, matrices, *, config: dict) -> list[dict]:
    Z, usual, peers = matrices
    flagged = []
    for i, s in zip(rows.tolist(), scores.tolist(), strict=True):
        z = Z[i]
        ranked = sorted(range(len(FEATURES)), key=lambda j: -z[j])
        drivers = [
            {"feature": FEATURES[j], "value": float(features.X[i, j]), "usual": float(usual[i, j]),
             "peers": float(peers[i, j]), "z": round(float(z[j]), 2)}
            for j in ranked[: config["MAX_DRIVERS"]] if z[j] >= config["DRIVER_Z"]
        ]
        if not drivers:  # a forest-only flag: still name the largest deviation
            j = ranked[0]
            drivers = [{"feature": FEATURES[j], "value": float(features.X[i, j]), "usual": float(usual[i, j]),
                        "peers": float(peers[i, j]), "z": round(float(z[j]), 2)}]
        a = int(features.account[i])
        start = _hour_start(features.hour[i])
        flagged.append({
            "account": a, "operator": features.operators[a], "account_type": features.account_types[a],
            "hour": start, "score": round(float(s), 3), "drivers": drivers,
            "kind": _kind(drivers, is_off_hours(start.hour, config["OFF_HOURS"])),
            "line_numbers": [], "line_count": 0,
        })
    return flagged


_LOCATION = frozenset({"new_ips", "new_devices", "new_device_with_new_ip", "ips", "devices"})


def _collect_lines(raw, flagged: list[dict], features: HourFeatures, *, rules: dict, config: dict) -> None:
    """A last read of the log for the flagged hours' lines: the rows behind the strongest driver
    first (the adds of an add burst, the rows from the unfamiliar device...), then those behind the
    other drivers; the hour's other rows only when no row matches a driver. Capped per hour."""
    cap = config["MAX_LINES_PER_HOUR"]
    words = [w for w in rules["SENSITIVE_WORDS"] if w]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)")
    actions_of = {name: frozenset(config[key] if key in config else rules[key]) for name, key in FEATURE_ACTIONS.items()}
    wanted = {}
    for f in flagged:
        rare_ips, rare_devs = features.unfamiliar.get(f["account"], (set(), set()))
        # one matcher per driver, strongest first: (actions, unfamiliar IPs, unfamiliar devices, sensitive?)
        matchers = []
        for d in f["drivers"]:
            name = d["feature"]
            location = name in _LOCATION
            matchers.append((actions_of.get(name, frozenset()), rare_ips if location else (), rare_devs if location else (),
                             name == "sensitive_hits"))
        wanted[(f["operator"], f["hour"].strftime("%Y-%m-%d %H"))] = (f, matchers, [[] for _ in matchers], [])
    with _Text(raw, rules) as text:
        _read_lines(text, wanted, pattern, cap)
    for f, _matchers, by_driver, others in wanted.values():
        lines = [line for bucket in by_driver for line in bucket]
        f["line_numbers"] = (lines or others)[:cap]


def _read_lines(text, wanted: dict, pattern, cap: int) -> None:
    operators = {operator for operator, _hour in wanted}
    reader = csv.reader(text)
    while True:
        try:
            for row in reader:
                if len(row) != 8 or row[1] not in operators:
                    continue
                entry = wanted.get((row[1], row[0][:13]))
                if entry is None:
                    continue
                f, matchers, by_driver, others = entry
                f["line_count"] += 1
                line = reader.line_num
                action, message, ip, device = row[3], row[5], row[6], row[7]
                for k, (actions, rare_ips, rare_devs, sensitive) in enumerate(matchers):
                    unfamiliar = ip in rare_ips or device in rare_devs
                    if unfamiliar:
                        seen = f.setdefault("unfamiliar", {"ips": [], "devices": []})
                        for value, key, rare in ((ip, "ips", rare_ips), (device, "devices", rare_devs)):
                            if value in rare and value not in seen[key] and len(seen[key]) < 5:
                                seen[key].append(value)
                    if unfamiliar or action in actions or (sensitive and pattern.search(message)):
                        if len(by_driver[k]) < cap:
                            by_driver[k].append(line)
                        break
                else:
                    if len(others) < cap:
                        others.append(line)
            break
        except csv.Error:
            continue


def detect_anomalies(raw, *, rules: dict, config: dict, method: str | None = None) -> AnomalyReport:
    """Features, scores, explanations and lines of the flagged hours. Never raises for a bad log:
    what it cannot read is simply not there (the risk rules report malformed rows)."""
    report = AnomalyReport(method=method or config["METHOD"])
    started = time.perf_counter()
    try:
        features = extract_features(raw, rules=rules, config=config)
    except (OSError, EOFError) as exc:
        report.error = f"cannot read the log: {exc}"
        return report
    report.seconds_features = time.perf_counter() - started
    report.accounts, report.account_hours, report.rows = len(features.operators), len(features.account), features.rows
    started = time.perf_counter()
    rows, scores, matrices = score(features, config=config, method=method)
    flagged = explain(features, rows, scores, matrices, config=config)
    report.seconds_scoring = time.perf_counter() - started
    if flagged:
        started = time.perf_counter()
        _collect_lines(raw, flagged, features, rules=rules, config=config)
        report.seconds_lines = time.perf_counter() - started
    for f in flagged:
        f.pop("account")
        seen = f.pop("unfamiliar", None)
        if seen:  # name the unfamiliar IPs and devices beside the location driver
            for driver in f["drivers"]:
                if driver["feature"] in ("new_ips", "new_devices", "new_device_with_new_ip"):
                    driver["seen"] = [*seen["ips"], *(mask_id_numbers(d) for d in seen["devices"])]
        f["operator"] = mask_id_numbers(f["operator"])[:100]
        f["score"] = f["score"] if math.isfinite(f["score"]) else 0.0
    report.flagged = flagged
    return report
