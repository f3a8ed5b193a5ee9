"""The core's models: users, enterprises and their accounts, ban incidents, appeals and their timeline."""

from .appeal import CLOSED_STATES, Appeal, AppealEvent, AppealState, ReferenceSequence
from .decision import Outcome, OutcomeCode
from .enterprise import AccountType, Enterprise, MessagingAccount, Platform
from .incident import BanIncident, IncidentKind, ReasonCategory, Severity
from .search import AppealSearch
from .user import Role, User

__all__ = [
    "CLOSED_STATES", "AccountType", "Appeal", "AppealEvent", "AppealSearch", "AppealState", "BanIncident", "Enterprise",
    "IncidentKind", "MessagingAccount", "Outcome", "OutcomeCode", "Platform", "ReasonCategory", "ReferenceSequence", "Role", "Severity", "User",
]
