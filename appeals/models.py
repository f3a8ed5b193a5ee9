"""Where Django finds the app's models: each capability's models module, gathered.

The shell's one aggregation point (like urls and plug-ins); code inside a capability imports
its models from their home package (appeals.core.models, appeals.evidence.models, ...), never from here.
"""

from appeals.api.models import IdempotencyRecord
from appeals.audit.models import AuditEvent
from appeals.batch.models import BatchGroup, BatchMember
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
    AnomalyHour,
    AnomalyKind,
    DerivedStatus,
    EvidenceGroup,
    EvidenceItem,
    EvidenceKind,
    FileType,
    LogAnalysis,
    RiskFlag,
    RiskRule,
)
from appeals.intake.models import PushedIncident, ServiceAccount
from appeals.notifications.models import Channel, Message, MessageState, SmsProviderAccount
from appeals.platform.models import PullRun, PullState, WeComConnection
from appeals.records.models import RecordsRun, RunKind
from appeals.recovery.models import Anchor, RecoveryPlan, RecoveryStep, RecoveryStepTemplate
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
    "BatchGroup",
    "BatchMember",
    "IdempotencyRecord",
    "PushedIncident",
    "ServiceAccount",
    "AnalysisStatus",
    "AnomalyHour",
    "AnomalyKind",
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
    "Anchor",
    "RecoveryPlan",
    "RecoveryStep",
    "RecoveryStepTemplate",
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
    "PullRun",
    "PullState",
    "RecordsRun",
    "RunKind",
    "ReferenceSequence",
    "ReportSnapshot",
    "Role",
    "Severity",
    "SlaNotification",
    "SlaPolicy",
    "SlaUnit",
    "SmsProviderAccount",
    "User",
    "VerificationChallenge",
    "WeComConnection",
    "WorkCalendarDay",
    "DeliveryOutcome",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
]
