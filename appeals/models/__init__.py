"""Domain models, one module per concept."""

from .appeal import Appeal, AppealEvent, AppealState, ReferenceSequence
from .audit import AuditEvent
from .enterprise import AccountType, Enterprise, MessagingAccount, Platform
from .incident import BanIncident, IncidentKind, ReasonCategory, Severity
from .sla import AppealSla, ReportSnapshot, SlaNotification, SlaPolicy, SlaUnit, WorkCalendarDay
from .user import Role, User

__all__ = [
    "AccountType",
    "Appeal",
    "AppealEvent",
    "AppealSla",
    "AppealState",
    "AuditEvent",
    "BanIncident",
    "Enterprise",
    "IncidentKind",
    "MessagingAccount",
    "Platform",
    "ReasonCategory",
    "ReferenceSequence",
    "ReportSnapshot",
    "Role",
    "Severity",
    "SlaNotification",
    "SlaPolicy",
    "SlaUnit",
    "User",
    "WorkCalendarDay",
]
