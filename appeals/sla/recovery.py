"""Time to recovery: from the ban (incident.banned_at) to the decision that restores the
account (decided_at of an approved appeal), per enterprise, per incident kind, per month of
the restoring decision (Asia/Shanghai): count, median and p90 hours, computed by the database
(percentile_cont per group on PostgreSQL; on SQLite, the embedded mode, per group in Python).

Tenant-scoped like every read: a manager sees every enterprise (or one, filtered); an
enterprise admin only their own; anyone else is refused.
"""

import csv
import io
import math
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.utils import timezone

from appeals.core.models import Appeal, AppealState, Role
from appeals.shared.exceptions import PermissionDenied
from appeals.sla.reports import PercentileCont, ReportFilters, Seconds, _csv_cell, _hours, parse_filters

DEFAULT_MONTHS = 12


def recovery_filters(*, user, params) -> ReportFilters:
    """The report filters (start/end/enterprise/kind/platform/severity), default period: the last
    twelve months; an enterprise admin is pinned to their own enterprise."""
    if not (user.has_role(Role.MANAGER) or user.enterprise_id):
        raise PermissionDenied(code="permission_denied")
    params = {k: params.get(k) for k in ("start", "end", "enterprise", "kind", "platform", "severity")}
    if not (params.get("start") or "").strip():
        end = timezone.localdate()
        if (params.get("end") or "").strip():
            from django.utils.dateparse import parse_date

            try:
                end = parse_date(params["end"].strip()) or end
            except ValueError:
                pass
        first = end.replace(day=1)
        for _ in range(DEFAULT_MONTHS - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        params["start"] = first.isoformat()
    filters = parse_filters(params)
    if not user.has_role(Role.MANAGER):
        filters = ReportFilters(start=filters.start, end=filters.end, enterprise=user.enterprise_id, platform=filters.platform,
                                kind=filters.kind, severity=filters.severity)
    return filters


def _restored(f: ReportFilters):
    qs = Appeal.objects.filter(state=AppealState.APPROVED, decided_at__gte=f.start_at, decided_at__lt=f.end_at)
    if f.enterprise:
        qs = qs.filter(enterprise_id=f.enterprise)
    if f.kind:
        qs = qs.filter(incident__kind=f.kind)
    if f.platform:
        qs = qs.filter(incident__account__platform=f.platform)
    if f.severity:
        qs = qs.filter(incident__severity=f.severity)
    return qs.filter(incident__banned_at__lte=F("decided_at"))


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    pos = p * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _grouped(qs, keys: list[str]) -> list[dict]:
    seconds = Seconds(F("decided_at"), F("incident__banned_at"))
    if connection.vendor == "postgresql":
        return list(qs.values(*keys).annotate(count=Count("pk"), p50=PercentileCont(seconds, 0.5),
                                              p90=PercentileCont(seconds, 0.9)).order_by(*keys))
    groups: dict[tuple, list[float]] = {}
    for row in qs.annotate(_s=seconds).values(*keys, "_s"):
        groups.setdefault(tuple(row[k] for k in keys), []).append(row["_s"])
    return [{**dict(zip(keys, key, strict=True)), "count": len(v), "p50": _percentile(v, 0.5), "p90": _percentile(v, 0.9)}
            for key, v in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]


def _overall(qs) -> dict:
    seconds = Seconds(F("decided_at"), F("incident__banned_at"))
    if connection.vendor == "postgresql":
        return qs.aggregate(count=Count("pk"), p50=PercentileCont(seconds, 0.5), p90=PercentileCont(seconds, 0.9))
    values = list(qs.annotate(_s=seconds).values_list("_s", flat=True))
    return {"count": len(values), "p50": _percentile(values, 0.5), "p90": _percentile(values, 0.9)}


def _month(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, date) or hasattr(value, "hour"):
        value = timezone.localtime(value).date()
    return value.strftime("%Y-%m")


def time_to_recovery(*, user, filters: ReportFilters) -> dict:
    """Rows per (month, enterprise, incident kind), totals per month and per kind, and overall."""
    tz = timezone.get_current_timezone()
    qs = _restored(filters).annotate(month=TruncMonth("decided_at", tzinfo=tz))
    keys = ["month", "enterprise_id", "enterprise__name", "incident__kind"]

    def shape(row):
        out = {"count": row["count"], "median_h": _hours(row["p50"]), "p90_h": _hours(row["p90"])}
        if "month" in row:
            out = {"month": _month(row["month"]), **out}
        if "enterprise_id" in row:
            out = {**out, "enterprise_id": row["enterprise_id"], "enterprise": row["enterprise__name"]}
        if "incident__kind" in row:
            out = {**out, "kind": row["incident__kind"]}
        return out

    rows = [shape(r) for r in _grouped(qs, keys)]
    by_month = [shape(r) for r in _grouped(qs, ["month"])]
    by_kind = [shape(r) for r in _grouped(qs, ["incident__kind"])]
    total = shape(_overall(_restored(filters)))
    return {"filters": filters.as_query(), "generated_at": timezone.now(), "overall": total,
            "by_month": by_month, "by_kind": by_kind, "rows": rows}


CSV_COLUMNS = ["month", "enterprise_id", "enterprise", "kind", "count", "median_h", "p90_h"]


def time_to_recovery_csv(report: dict) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow([_csv_cell(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()
