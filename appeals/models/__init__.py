"""Domain models, one module per concept."""

from .appeal import Appeal, AppealEvent, AppealState, ReferenceSequence
from .audit import AuditEvent
from .enterprise import AccountType, Enterprise, MessagingAccount, Platform
from .evidence import (
    AnalysisStatus,
    DerivedStatus,
    EvidenceGroup,
    EvidenceItem,
    EvidenceKind,
    FileType,
    LogAnalysis,
    RiskFlag,
    RiskRule,
)
from .incident import BanIncident, IncidentKind, ReasonCategory, Severity
from .message import Message, MessageState
from .sla import AppealSla, ReportSnapshot, SlaNotification, SlaPolicy, SlaUnit, WorkCalendarDay
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
from .verification import ChallengeState, Channel, VerificationChallenge

__all__ = [
    "AnalysisStatus",
    "DerivedStatus",
    "EvidenceGroup",
    "EvidenceItem",
    "EvidenceKind",
    "FileType",
    "LogAnalysis",
    "RiskFlag",
    "RiskRule",
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
    "AppealSla",
    "AppealState",
    "AuditEvent",
    "BanIncident",
    "ChallengeState",
    "Channel",
    "Enterprise",
    "IncidentKind",
    "Message",
    "MessageState",
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
    "VerificationChallenge",
    "WorkCalendarDay",
]
