"""WeCom operation records, read from the API's JSON pages or the console's export, and written
in the operation-log CSV layout the evidence analysis reads (appeals/evidence/log_analysis.py).

Pure: no database, no network. The mapping to the risk rules:

- member 1 (add external contact) -> add_friend: counts towards mass adding;
- member 2 (delete external contact) -> delete_contact;
- member 4 (new-device login), 13 (secondary-device login) -> login with the record's IP and a
  device seen for the first time, so a new device with an IP the account does not usually use
  raises location_anomaly;
- member 9 (login banned), 20 (interworking banned), 21 (device locked) -> platform_ban, which
  the analysis reports as an incident marker;
- every other code -> wecom_<code> (member) or wecom_admin_<code> (admin): kept for the reader,
  no rule needs a permission for it.

WeCom does not say which sub-account type acted, so every row is written as `master` (the type
that may do everything): the permission rule is not applied to WeCom data rather than guessed.
"""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The codes of "获取成员操作记录" and "获取管理端操作日志", with the console's Chinese names.
MEMBER_OPER_TYPES = {
    1: "添加外部联系人", 2: "删除外部联系人", 3: "标记企业客户", 4: "新设备登录", 5: "更换手机号", 6: "绑定微信号",
    7: "换绑微信号", 8: "邀请成员", 9: "封禁登录", 11: "修改昵称", 12: "修改姓名", 13: "副设备登录",
    15: "确认高级功能订单", 16: "应用变更", 17: "确认会话内容存档订单", 20: "封禁互通", 21: "锁定设备",
}
ADMIN_OPER_TYPES = {
    2: "权限管理变更", 3: "成员与部门变更", 7: "其它", 8: "应用变更", 11: "通讯录与聊天管理", 12: "企业信息管理",
    13: "外部联系人管理",
}
ADD_CODES = frozenset({1})
DELETE_CODES = frozenset({2})
LOGIN_CODES = frozenset({4, 13})
BAN_CODES = frozenset({9, 20, 21})

CSV_COLUMNS = ("time", "operator", "account_type", "action", "target", "message", "ip", "device_id")

# The console export's headers (and a few spellings of them), mapped to the record's fields.
HEADER_ALIASES = {
    "time": ("操作时间", "时间", "time"),
    "userid": ("操作者", "成员", "操作人", "成员账号", "帐号", "账号", "userid", "operator"),
    "oper_type": ("操作类型", "类型", "oper_type", "action"),
    "detail_info": ("详情", "操作详情", "详细信息", "操作内容", "detail_info", "detail"),
    "ip": ("ip", "ip地址", "操作ip", "登录ip"),
}
_LABEL_TO_CODE = {label: code for code, label in MEMBER_OPER_TYPES.items()}


class RecordsError(ValueError):
    """The file does not hold operation records in a shape this module reads."""


def _record(kind: str, item: dict) -> dict:
    try:
        t = int(item.get("time"))
    except (TypeError, ValueError):
        t = None
    try:
        code = int(item.get("oper_type"))
    except (TypeError, ValueError):
        code = None
    return {"kind": kind, "time": t, "userid": str(item.get("userid") or ""), "oper_type": code,
            "detail_info": str(item.get("detail_info") or ""), "ip": str(item.get("ip") or "")}


def records_from_document(doc) -> list[dict]:
    """Records from JSON: the document this desk stores ({"member": [pages], "admin": [pages]}),
    a list of pages, or one page ({"record_list": [...]})."""
    if isinstance(doc, dict) and ("member" in doc or "admin" in doc):
        groups = [(kind, doc.get(kind) or []) for kind in ("member", "admin")]
    elif isinstance(doc, dict) and "record_list" in doc:
        groups = [("member", [doc])]
    elif isinstance(doc, list):
        groups = [("member", doc)]
    else:
        raise RecordsError("no record_list, member or admin pages in the JSON")
    out = []
    for kind, pages in groups:
        if not isinstance(pages, list):
            raise RecordsError(f"{kind} is not a list of pages")
        for page in pages:
            items = page.get("record_list") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise RecordsError("a page without record_list")
            out.extend(_record(kind, item) for item in items if isinstance(item, dict))
    return out


def _norm_header(cell) -> str:
    return str(cell or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "")


def _parse_time(value) -> int | None:
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value or "").strip()
        if not text:
            return None
        if text.isdigit():
            return int(text)
        dt = None
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=SHANGHAI)
    return int(dt.timestamp())


def records_from_table(rows) -> list[dict]:
    """Records from the console's export (CSV or XLSX rows): a header row with Chinese names, then data."""
    rows = iter(rows)
    index = None
    for row in rows:
        cells = [_norm_header(c) for c in row]
        if not any(cells):
            continue
        found = {}
        for field, aliases in HEADER_ALIASES.items():
            for i, cell in enumerate(cells):
                if cell in aliases:
                    found[field] = i
                    break
        if "time" not in found or "userid" not in found or "oper_type" not in found:
            raise RecordsError("the header needs 操作时间, 操作者 (or 成员) and 操作类型")
        index = found
        break
    if index is None:
        raise RecordsError("the file is empty")
    out = []
    for row in rows:
        row = list(row)
        if not any(str(c or "").strip() for c in row):
            continue

        def cell(field, row=row):
            i = index.get(field)
            return row[i] if i is not None and i < len(row) else None

        raw_type = str(cell("oper_type") or "").strip()
        code = int(raw_type) if raw_type.isdigit() else _LABEL_TO_CODE.get(raw_type)
        out.append({"kind": "member", "time": _parse_time(cell("time")), "userid": str(cell("userid") or "").strip(),
                    "oper_type": code, "label": raw_type, "detail_info": str(cell("detail_info") or "").strip(),
                    "ip": str(cell("ip") or "").strip()})
    return out


def _action(record: dict) -> str:
    code = record["oper_type"]
    if record["kind"] == "admin":
        return f"wecom_admin_{code}" if code is not None else "wecom_admin"
    if code in ADD_CODES:
        return "add_friend"
    if code in DELETE_CODES:
        return "delete_contact"
    if code in LOGIN_CODES:
        return "login"
    if code in BAN_CODES:
        return "platform_ban"
    return f"wecom_{code}" if code is not None else "wecom_other"


def _clean(value: str) -> str:
    # One CSV cell each: no line breaks inside (the analysis counts lines), no formula prefixes.
    value = " ".join(str(value).split())
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def to_csv(records: list[dict]) -> tuple[bytes, int]:
    """The records in the operation-log CSV layout, in time order; returns (bytes, rows written).

    A record without a readable time is still written (the analysis reports its line as
    malformed) so nothing the platform returned disappears silently.
    """
    ordered = sorted(records, key=lambda r: (r["time"] is None, r["time"] or 0))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    last_device: dict[str, str] = {}
    for r in ordered:
        when = datetime.fromtimestamp(r["time"], SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if r["time"] is not None else ""
        code = r["oper_type"]
        label = (ADMIN_OPER_TYPES if r["kind"] == "admin" else MEMBER_OPER_TYPES).get(code, r.get("label", ""))
        # A login from a new (or secondary) device is a device this account has not used: a
        # marker of its own, so the analysis sees "new device" and checks the IP.
        # Other rows carry the account's latest such device, so they never look like a new one.
        if r["kind"] == "member" and code in LOGIN_CODES:
            device = last_device[r["userid"]] = f"wecom-{code}-{r['time']}"
        else:
            device = last_device.get(r["userid"], "")
        writer.writerow([when, _clean(r["userid"]), "master", _action(r), _clean(label), _clean(r["detail_info"]),
                         _clean(r["ip"]), device])
    return buf.getvalue().encode("utf-8"), len(ordered)
