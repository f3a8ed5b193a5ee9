"""Thin Celery entry points, one module per capability: take ids, reload, call a service."""

from . import evidence  # noqa: F401
from .audit import verify_audit_chain

__all__ = ["verify_audit_chain"]
