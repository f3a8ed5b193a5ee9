"""Thin Celery entry points, one module per capability: take ids, reload, call a service."""

from . import evidence  # noqa: F401
from .audit import verify_audit_chain
from .notifications import deliver_message, outbox_sweep
from .sla import auto_resolve_appeal, refresh_report_snapshots, send_sla_notification, sla_auto_resolve, sla_scan
from .surge import surge_notify, surge_scan

__all__ = [
    "auto_resolve_appeal",
    "deliver_message",
    "outbox_sweep",
    "refresh_report_snapshots",
    "send_sla_notification",
    "sla_auto_resolve",
    "sla_scan",
    "surge_notify",
    "surge_scan",
    "verify_audit_chain",
]
