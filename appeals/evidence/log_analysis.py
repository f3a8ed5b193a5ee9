"""Risk analysis of an uploaded operation log, read as a stream (no database here).

The documented layout (docs: one header row is optional, then one row per action):

    time,operator,account_type,action,target,message,ip,device_id
    2026-11-20 10:15:30,wx-sales-01,operations,add_friend,wxid_abc,你好,10.0.0.8,dev-a1

- time: ISO 8601 local time (Asia/Shanghai), "YYYY-MM-DD HH:MM:SS"; rows in time order.
- account_type: master | operations | customer_service | developer (DOMAIN.md isolation model).
- action: add_friend, send_message, mass_message, manage_accounts, create_account,
  delete_account, api_call, export_data, or anything else (login, ...) that needs no permission.
  `platform_ban` (rules["BAN_ACTIONS"]) marks a ban or lock by the platform itself: reported
  as an incident marker (rule platform_ban), one flag per account.
  Account health (appeals.evidence.health) also reads these events, which need no permission:
  friend_request_sent (add_friend counts as one), friend_request_accepted, message_sent
  (send_message and mass_message count as one), message_replied, deleted_by_customer,
  blocked_by_customer, complaint. The row's operator is the account; target is the customer.
- Encoding UTF-8 (with or without BOM) or GBK/GB18030; the file may be gzip-compressed.

Rules and thresholds come from settings.EVIDENCE_LOG_RULES (health: settings.HEALTH_THRESHOLDS). Malformed rows are counted and
their line numbers kept; they never stop the analysis. Memory is bounded by the number of
distinct operators, devices and IPs plus the rows inside one sliding window (health: accounts x days).
"""

import codecs
import csv
import gzip
import io
import re
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from appeals.evidence.health import HEALTH_ACTIONS, HealthTracker, health_report
from appeals.shared.masking import mask_id_numbers

# The sensitive-word search is remembered per message text (a regex search costs several times
# a dict lookup): at most this many distinct messages of at most this many characters.
MEMO_MESSAGES = 20_000
MEMO_MESSAGE_CHARS = 200
COLUMNS = ("time", "operator", "account_type", "action", "target", "message", "ip", "device_id")
_READ_CHUNK = 1024 * 1024


class _CappedRaw(io.RawIOBase):
    """A raw stream over a (possibly decompressing) source that refuses to inflate past a cap.

    A damaged source (truncated gzip, bad CRC) or the cap ends the stream early instead of
    raising, so the rows read so far are still analysed; `failure` says why it ended.
    """

    def __init__(self, source, cap: int):
        self._source = source
        # read1: one underlying read at a time, so data before a damaged spot is not lost.
        self._read = getattr(source, "read1", None) or source.read
        self._cap = cap
        self.consumed = 0
        self.failure = ""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.failure:
            return 0
        try:
            data = self._read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            self.failure = f"the log is damaged: {exc}"
            return 0
        n = len(data)
        self.consumed += n
        if self.consumed > self._cap:
            self.failure = f"the log inflates beyond {self._cap} bytes; analysis stopped there"
            return 0
        buffer[:n] = data
        return n


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return "utf-8"  # undecodable bytes become U+FFFD and the rows holding them are reported


def open_log_text(raw, *, max_decompressed: int) -> tuple[io.TextIOBase, str, "_CappedRaw"]:
    """A text stream over the log (gunzipped if needed), its encoding, and the raw stream."""
    raw.seek(0)
    magic = raw.read(2)
    raw.seek(0)
    gz = magic == b"\x1f\x8b"
    source = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
    capped = _CappedRaw(source, max_decompressed if gz else 1 << 62)
    capped.compressed = gz
    inner = getattr(raw, "file", raw)
    if not gz and isinstance(inner, io.BufferedReader):
        buffered = inner  # a plain local file: read it directly, no Python layer in between
    else:
        buffered = io.BufferedReader(capped, _READ_CHUNK)
    encoding = detect_encoding(buffered.peek(65536)[:65536])
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline="")
    text._CHUNK_SIZE = 64 * 1024  # fewer, larger decode steps
    return text, encoding, capped


@dataclass
class LogReport:
    encoding: str = ""
    compressed: bool = False
    rows_total: int = 0
    rows_malformed: int = 0
    malformed_lines: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    error: str = ""
    health: dict = field(default_factory=dict)  # per account and day (appeals.evidence.health)


class _SlidingWindow:
    """Per operator: weight inside the last `span`; consecutive breaches merge into one burst."""

    def __init__(self, rule: str, span: timedelta, threshold: int, max_lines: int):
        self.rule, self.span, self.threshold, self.max_lines = rule, span, threshold, max_lines
        self.state: dict[str, list] = {}
        self.flags: list[dict] = []

    def add(self, operator: str, t: datetime, weight: int, line: int, extra=None) -> None:
        st = self.state.get(operator)
        if st is None:
            st = self.state[operator] = [deque(), 0, None]
        window = st[0]
        window.append((t, weight, line, extra))
        total = st[1] + weight
        cutoff = t - self.span
        while window[0][0] <= cutoff:
            total -= window.popleft()[1]
        st[1] = total
        burst = st[2]
        if total > self.threshold:
            if burst is None:
                lines = [entry[2] for entry in window]
                st[2] = {"operator": operator, "start": window[0][0], "end": t, "peak": total,
                         "events": sum(entry[1] for entry in window), "lines": lines[: self.max_lines],
                         "line_count": len(lines), "extra": set()}
                burst = st[2]
                for entry in window:
                    if entry[3]:
                        burst["extra"].update(entry[3])
            else:
                burst["end"] = t
                burst["events"] += weight
                burst["line_count"] += 1
                if total > burst["peak"]:
                    burst["peak"] = total
                if len(burst["lines"]) < self.max_lines:
                    burst["lines"].append(line)
                if extra:
                    burst["extra"].update(extra)
        elif burst is not None:
            self._close(st)

    def _close(self, st) -> None:
        burst, st[2] = st[2], None
        detail = {"threshold": self.threshold, "events_in_burst": burst["events"], "line_count": burst["line_count"]}
        if burst["extra"]:
            detail["words"] = sorted(burst["extra"])
        self.flags.append({
            "rule": self.rule, "operator": burst["operator"], "window_start": burst["start"],
            "window_end": burst["end"], "count": burst["peak"], "line_numbers": burst["lines"], "detail": detail,
        })

    def finish(self) -> list[dict]:
        for st in self.state.values():
            if st[2] is not None:
                self._close(st)
        return self.flags


class _AddBursts:
    """Mass adding: the per-operator window is kept inline by the reader; this only sees breaches."""

    def __init__(self, threshold: int, max_lines: int):
        self.threshold, self.max_lines = threshold, max_lines
        self.open: dict[str, dict] = {}
        self.flags: list[dict] = []

    def step(self, operator: str, window: deque, t: datetime, line: int) -> None:
        count = len(window)
        burst = self.open.get(operator)
        if count > self.threshold:
            if burst is None:
                lines = [entry[1] for entry in window]
                self.open[operator] = {"start": window[0][0], "end": t, "peak": count, "lines": lines[: self.max_lines],
                                       "events": count}
            else:
                burst["end"] = t
                burst["events"] += 1
                burst["peak"] = max(burst["peak"], count)
                if len(burst["lines"]) < self.max_lines:
                    burst["lines"].append(line)
        elif burst is not None:
            self._close(operator)

    def _close(self, operator: str) -> None:
        burst = self.open.pop(operator)
        self.flags.append({
            "rule": "mass_add", "operator": operator, "window_start": burst["start"], "window_end": burst["end"],
            "count": burst["peak"], "line_numbers": burst["lines"],
            "detail": {"threshold": self.threshold, "events_in_burst": burst["events"], "line_count": burst["events"]},
        })

    def finish(self) -> list[dict]:
        for operator in list(self.open):
            self._close(operator)
        return self.flags


def analyse_operation_log(raw, *, rules: dict, health_thresholds: dict | None = None) -> LogReport:
    """Read the log once, row by row, and return the flags and the malformed-row report, and
    the account health metrics (flags for them only when `health_thresholds` is given).

    The loop is the hot path (a million rows in seconds): the common case of each rule is
    inlined; only breaches and rare events call out.
    """
    report = LogReport()
    max_lines = rules["MAX_LINES_PER_FLAG"]
    max_bad = rules["MAX_MALFORMED_LINES"]
    try:
        text, report.encoding, capped = open_log_text(raw, max_decompressed=rules["MAX_DECOMPRESSED_BYTES"])
        report.compressed = capped.compressed
    except (OSError, EOFError) as exc:
        report.error = f"cannot read the log: {exc}"
        return report

    action_perm = dict(rules["ACTION_PERMISSIONS"])
    # account type -> the logged actions it may not perform (DOMAIN.md permission matrix)
    denied_actions = {
        account_type: frozenset(a for a, perm in action_perm.items() if perm not in allowed)
        for account_type, allowed in rules["ACCOUNT_TYPE_PERMISSIONS"].items()
    }
    add_actions = frozenset(rules["ADD_ACTIONS"])
    ban_actions = frozenset(rules.get("BAN_ACTIONS", ()))
    bans: dict[str, list] = {}
    words = [w for w in rules["SENSITIVE_WORDS"] if w]
    # longest first, so that overlapping words count once; "(?!)" never matches (no words configured)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)")
    search, findall = pattern.search, pattern.findall
    word_memo: dict[str, tuple] = {}  # message -> the sensitive words in it (bounded: MEMO_*)
    hour = timedelta(hours=1)
    mass_max = rules["MASS_ADD_MAX_PER_HOUR"]
    mass = _AddBursts(mass_max, max_lines)
    mass_step, mass_open = mass.step, mass.open
    sensitive = _SlidingWindow("sensitive_words", timedelta(minutes=1), rules["SENSITIVE_MAX_HITS_PER_MINUTE"], max_lines)
    sensitive_add = sensitive.add
    # operator -> [devices seen, IPs seen, window of recent adds (time, line), health bucket of its current day]
    state: dict[str, list] = {}
    anomalies: dict[str, list] = {}
    denied: dict[tuple[str, str, str], list] = defaultdict(lambda: [0, []])
    fromiso = datetime.fromisoformat
    bad_lines = report.malformed_lines
    rows = malformed = 0
    health_cap = (health_thresholds or {}).get("MAX_LINES_PER_FLAG", max_lines)
    health = HealthTracker(health_cap)
    health_open, health_day, health_kinds = health.open, health.day_of, HEALTH_ACTIONS
    hday, hday_from, hday_to = None, None, None  # the current row's day (a token) and its bounds

    def bad(line: int, reason: str) -> None:
        nonlocal malformed
        malformed += 1
        if len(bad_lines) < max_bad:
            bad_lines.append({"line": line, "reason": reason})

    reader = csv.reader(text)
    last_ts, t, hour_ago = None, None, None
    first = True
    while True:
        try:
            for row in reader:
                # The line where the record ends: its own line unless a quoted field spans lines.
                line = reader.line_num
                if len(row) != 8:
                    if not row:
                        continue
                    if first and len(row) > 1 and row[0].strip().lower() == "time":
                        first = False
                        bad(line, f"header has {len(row)} columns, expected 8")
                        continue
                    first = False
                    rows += 1
                    bad(line, f"expected 8 columns, found {len(row)}")
                    continue
                ts, operator, account_type, action, _target, message, ip, device = row
                if first:
                    first = False
                    if ts.strip().lower().lstrip("\ufeff") == "time":
                        continue
                rows += 1
                try:
                    denied_here = denied_actions[account_type]
                except KeyError:
                    bad(line, "unknown account type")
                    continue
                if ts != last_ts:  # consecutive rows often share a second: parse once
                    try:
                        t = fromiso(ts)
                        if hday_to is None or not hday_from <= t < hday_to:  # account health: another day
                            hday, hday_from, hday_to = health_day(t)
                    except (ValueError, TypeError):  # TypeError: naive and UTC-offset times mixed
                        bad(line, "time is not YYYY-MM-DD HH:MM:SS")
                        continue
                    last_ts = ts
                    hour_ago = t - hour
                try:
                    st = state[operator]
                except KeyError:  # first sighting of the account: its baseline
                    if not operator:
                        bad(line, "operator is empty")
                        continue
                    st = state[operator] = [{device}, {ip}, deque(), None]  # None: its health bucket
                if device not in st[0] or ip not in st[1]:
                    devices, ips = st[0], st[1]
                    if device not in devices:
                        if ip not in ips:
                            anomalies.setdefault(operator, []).append((line, t, device, ip))
                        devices.add(device)
                    ips.add(ip)
                # account health: the row's account-and-day bucket; counter k, its lines' append at k + 1
                hb = st[3]
                if hb is None or hb[0] is not hday:
                    hb = st[3] = health_open(operator, hday)
                n = hb[1] = hb[1] + 1
                if n <= health_cap:
                    hb[2](line)
                if action in health_kinds:
                    k = health_kinds[action]
                    n = hb[k] = hb[k] + 1
                    if n <= health_cap:
                        hb[k + 1](line)
                if action in denied_here:
                    entry = denied[(operator, account_type, action)]
                    entry[0] += 1
                    if len(entry[1]) < max_lines:
                        entry[1].append(line)
                if action in add_actions:
                    window = st[2]
                    window.append((t, line))
                    while window[0][0] <= hour_ago:
                        window.popleft()
                    if len(window) > mass_max or (mass_open and operator in mass_open):
                        mass_step(operator, window, t, line)
                if action in ban_actions:
                    bans.setdefault(operator, []).append((line, t, _target))
                found = word_memo.get(message)  # most messages repeat (templates, empty): search each once
                if found is None:
                    found = tuple(findall(message)) if search(message) else ()
                    if len(message) <= MEMO_MESSAGE_CHARS and len(word_memo) < MEMO_MESSAGES:
                        word_memo[message] = found
                if found:
                    sensitive_add(operator, t, len(found), line, found)
            break
        except csv.Error as exc:
            rows += 1
            bad(reader.line_num, f"unreadable CSV row: {exc}")

    if capped.failure:
        report.error = f"{capped.failure} (after line {reader.line_num})"

    report.rows_total = rows
    report.rows_malformed = malformed
    flags = report.flags
    flags.extend(mass.finish())
    flags.extend(sensitive.finish())
    for operator, hits in anomalies.items():
        flags.append({
            "rule": "location_anomaly", "operator": operator, "window_start": hits[0][1], "window_end": hits[-1][1],
            "count": len(hits), "line_numbers": [h[0] for h in hits[:max_lines]],
            "detail": {"first": [{"line": h[0], "device_id": mask_id_numbers(h[2]), "ip": h[3]} for h in hits[:5]]},
        })
    for operator, hits in bans.items():
        flags.append({
            "rule": "platform_ban", "operator": operator, "window_start": hits[0][1], "window_end": hits[-1][1],
            "count": len(hits), "line_numbers": [h[0] for h in hits[:max_lines]],
            "detail": {"first": [{"line": h[0], "target": mask_id_numbers(h[2])[:100]} for h in hits[:5]]},
        })
    for (operator, account_type, action), (count, lines) in denied.items():
        flags.append({
            "rule": "permission", "operator": operator, "window_start": None, "window_end": None,
            "count": count, "line_numbers": lines,
            "detail": {"account_type": account_type, "action": action, "permission": action_perm[action]},
        })
    for flag in flags:
        flag["operator"] = mask_id_numbers(flag["operator"])[:100]
    report.health, health_flags = health_report(health, thresholds=health_thresholds, mask=mask_id_numbers)
    flags.extend(health_flags)
    return report
