"""Where Django finds the app's models: each capability's models module, gathered.

The shell's one aggregation point (like urls and plug-ins); code inside a capability imports
its models from their home package (appeals.core.models, appeals.evidence.models, ...), never from here.
"""

from appeals.audit.models import AuditEvent
from appeals.core.models import (
    AccountType,
    Appeal,
    AppealEvent,
    AppealState,
    BanIncident,
    Enterprise,
    IncidentKind,
    MessagingAccount,
    OutcomeCode,
    Platform,
    ReasonCategory,
    ReferenceSequence,
    Role,
    Severity,
    User,
)
from appeals.evidence.models import (
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
from appeals.notifications.models import Channel, Message, MessageState
from appeals.records.models import RecordsRun, RunKind
from appeals.sla.models import AppealSla, CalendarYear, ReportSnapshot, SlaNotification, SlaPolicy, SlaUnit, WorkCalendarDay
from appeals.surge.models import (
    ACTIVE_SURGE_STATES,
    SurgeAlert,
    SurgeDimension,
    SurgeResolution,
    SurgeSettings,
    SurgeState,
)
from appeals.verification.models import ChallengeState, VerificationChallenge
from appeals.webhooks.models import DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType

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
    "SurgeAlert",
    "SurgeDimension",
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
    "CalendarYear",
    "ChallengeState",
    "Channel",
    "Enterprise",
    "IncidentKind",
    "Message",
    "MessageState",
    "MessagingAccount",
    "OutcomeCode",
    "Platform",
    "ReasonCategory",
    "RecordsRun",
    "RunKind",
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
    "DeliveryOutcome",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
]
