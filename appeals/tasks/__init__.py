"""Thin Celery entry points, one module per capability: take ids, reload, call a service."""

from . import evidence  # noqa: F401
from .audit import verify_audit_chain
from .notifications import deliver_message, outbox_sweep

__all__ = ["deliver_message", "outbox_sweep", "verify_audit_chain"]
