"""Domain models, one module per concept."""

from .appeal import Appeal, AppealEvent, AppealState, ReferenceSequence
from .audit import AuditEvent
from .enterprise import AccountType, Enterprise, MessagingAccount, Platform
from .incident import BanIncident, IncidentKind, ReasonCategory, Severity
from .surge import (
    ACTIVE_SURGE_STATES,
    NotificationStatus,
    SurgeAlert,
    SurgeDimension,
    SurgeNotification,
    SurgeResolution,
    SurgeSettings,
    SurgeState,
)
from .user import Role, User

__all__ = [
    "ACTIVE_SURGE_STATES",
    "NotificationStatus",
    "SurgeAlert",
    "SurgeDimension",
    "SurgeNotification",
    "SurgeResolution",
    "SurgeSettings",
    "SurgeState",
    "AccountType",
    "Appeal",
    "AppealEvent",
    "AppealState",
    "AuditEvent",
    "BanIncident",
    "Enterprise",
    "IncidentKind",
    "MessagingAccount",
    "Platform",
    "ReasonCategory",
    "ReferenceSequence",
    "Role",
    "Severity",
    "User",
]
