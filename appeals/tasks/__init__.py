"""Thin Celery entry points, one module per capability: take ids, reload, call a service."""

from .audit import verify_audit_chain
from .surge import surge_notify, surge_scan

__all__ = ["surge_notify", "surge_scan", "verify_audit_chain"]
