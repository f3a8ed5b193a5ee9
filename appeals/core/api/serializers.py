"""Input and Output serializers of the REST API.

Input serializers only validate and never save: the views hand `validated_data` to a
service. Output serializers are read-only views of what the selectors return, so
state, tenant, reviewer, reference and filer fields cannot be written by a client.
"""

from datetime import UTC, datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appeals.core import selectors
from appeals.core.models import AccountType, AppealState, IncidentKind, Platform, ReasonCategory, Severity
from appeals.core.services.appeals import FirstReviewDecision, ManagerDecision, SecondReviewDecision
from appeals.core.workflow import Action, available_actions
from appeals.shared.validators import MOBILE_INPUT_MAX_LENGTH, normalise_mobile

# Free-text caps: generous for a human, small enough that a client cannot park megabytes.
STATEMENT_MAX = 10_000
COMMENT_MAX = 4_000
NOTICE_MAX = 5_000
# No messaging platform existed before this; anything earlier is a typo or garbage.
EARLIEST_BAN = datetime(2000, 1, 1, tzinfo=UTC)


@extend_schema_field({"type": "string", "maxLength": MOBILE_INPUT_MAX_LENGTH, "example": "+86 139 1234 5678",
                      "description": "A mainland China mobile number in any common form (13912345678, 139-1234-5678, "
                                     "+86 139 1234 5678); stored and returned as its 11 digits."})
class MobileField(serializers.CharField):
    """A mainland China mobile number as people type it; the value is its canonical 11 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MOBILE_INPUT_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalise_mobile(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="mobile") from None


def _user(request):
    return request.user if request is not None else None


# --- outputs -----------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    """The one error body every endpoint answers with (appeals/api/errors.py)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429 only).")
    attempts_left = serializers.IntegerField(required=False, help_text="Wrong-code answers left (wrong_code only).")


class EnterpriseBriefOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    enterprise = EnterpriseBriefOutput(read_only=True)
    platform = serializers.CharField(read_only=True)
    platform_display = serializers.CharField(source="get_platform_display", read_only=True)
    account_id = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    account_type = serializers.CharField(read_only=True)
    account_type_display = serializers.CharField(source="get_account_type_display", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class AccountBriefOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    platform = serializers.CharField(read_only=True)
    account_id = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    account_type = serializers.CharField(read_only=True)


class IncidentOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    enterprise = EnterpriseBriefOutput(read_only=True)
    account = AccountBriefOutput(read_only=True)
    banned_at = serializers.DateTimeField(read_only=True)
    kind = serializers.CharField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    reason = serializers.CharField(read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    notice_text = serializers.CharField(read_only=True)
    severity = serializers.CharField(read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class PriorIncidentOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    banned_at = serializers.DateTimeField(read_only=True)
    kind = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    severity = serializers.CharField(read_only=True)


class AvailableActionOutput(serializers.Serializer):
    action = serializers.CharField(help_text="The workflow action (appeals.core.workflow.Action).")
    label = serializers.CharField()
    verb = serializers.CharField(help_text="The endpoint to POST to: /api/v1/appeals/{reference}/<verb>/.")
    decision = serializers.CharField(allow_null=True, help_text="The `decision` to send with the verb, if it takes one.")


def _verb_of(action: str) -> tuple[str, str | None]:
    """Which API verb (and decision) carries out a workflow action."""
    for verb, decisions in (("first-review", FirstReviewDecision), ("second-review", SecondReviewDecision),
                            ("decide", ManagerDecision)):
        for decision, mapped in decisions.ACTIONS.items():
            if mapped == action:
                return verb, decision
    if action in (Action.CLAIM_FIRST, Action.CLAIM_SECOND):
        return "claim", None
    return str(action), None


class AppealListOutput(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=AppealState.choices, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    enterprise = EnterpriseBriefOutput(read_only=True)
    incident_id = serializers.IntegerField(read_only=True)
    incident_kind = serializers.CharField(source="incident.kind", read_only=True)
    severity = serializers.CharField(source="incident.severity", read_only=True)
    platform = serializers.CharField(source="incident.account.platform", read_only=True)
    account_display_name = serializers.CharField(source="incident.account.display_name", read_only=True)
    filed_by = serializers.CharField(source="filed_by.username", read_only=True)
    first_reviewer = serializers.CharField(source="first_reviewer.username", read_only=True, allow_null=True, default=None)
    second_reviewer = serializers.CharField(source="second_reviewer.username", read_only=True, allow_null=True, default=None)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


_timestamp = serializers.DateTimeField()


def _when(value, tz=None):
    """DRF's DateTimeField output (ISO 8601 in the current time zone, "Z" for UTC) without its
    per-call settings and time-zone lookups; `tz` is the current zone, looked up once per page."""
    if not value:
        return None
    if tz is None:
        return _timestamp.to_representation(value)
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# (language, state) -> the state's label in that language: catalogues do not change while a
# process runs, and a lazy label's translation was a tenth of a list page's row building.
_STATE_LABELS: dict[tuple[str | None, str], str] = {}


def appeal_list_rows_output(rows: list[dict]) -> list[dict]:
    """AppealListOutput for a page of `selectors.APPEAL_LIST_VALUES` rows: the zone is looked
    up once per page, each state's label once per language and process."""
    tz = timezone.get_current_timezone()
    language = get_language()
    out = []
    for row in rows:
        key = (language, row["state"])
        label = _STATE_LABELS.get(key)
        if label is None:
            label = _STATE_LABELS[key] = str(AppealState(row["state"]).label)
        out.append(appeal_list_row(row, tz=tz, state_display=label))
    return out


def appeal_list_row(row: dict, *, tz=None, state_display: str | None = None) -> dict:
    """One AppealListOutput row from `selectors.APPEAL_LIST_VALUES` (same fields, same formats),
    without a serializer instance per row; tests compare it with AppealListOutput."""
    when = partial(_when, tz=tz)
    return {
        "reference": row["reference"],
        "state": row["state"],
        "state_display": state_display if state_display is not None else str(AppealState(row["state"]).label),
        "enterprise": {"id": row["enterprise_id"], "name": row["enterprise__name"]},
        "incident_id": row["incident_id"],
        "incident_kind": row["incident__kind"],
        "severity": row["incident__severity"],
        "platform": row["incident__account__platform"],
        "account_display_name": row["incident__account__display_name"],
        "filed_by": row["filed_by__username"],
        "first_reviewer": row["first_reviewer__username"],
        "second_reviewer": row["second_reviewer__username"],
        "submitted_at": when(row["submitted_at"]),
        "decided_at": when(row["decided_at"]),
        "created_at": when(row["created_at"]),
    }


class AppealDetailOutput(AppealListOutput):
    statement = serializers.CharField(read_only=True)
    contact_phone = serializers.CharField(read_only=True)
    resume_state = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    incident = IncidentOutput(read_only=True)
    account = AccountOutput(source="incident.account", read_only=True)
    prior_incidents = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    outcome_code = serializers.CharField(read_only=True, help_text="The decision's outcome code ('' until decided).")
    decision_reason = serializers.SerializerMethodField(help_text="The outcome code's reason for this case, in the request's language.")

    def get_decision_reason(self, appeal) -> str:
        zh = (get_language() or "").lower().startswith("zh")
        return appeal.decision_reason_zh if zh else appeal.decision_reason_en

    @extend_schema_field(PriorIncidentOutput(many=True))
    def get_prior_incidents(self, appeal):
        return PriorIncidentOutput(selectors.prior_incidents(incident=appeal.incident), many=True).data

    @extend_schema_field(AvailableActionOutput(many=True))
    def get_available_actions(self, appeal):
        user = _user(self.context.get("request"))
        out = []
        for action in available_actions(appeal, user):
            verb, decision = _verb_of(action)
            out.append({"action": str(action), "label": str(Action(action).label), "verb": verb, "decision": decision})
        return out


class AppealEventOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    action = serializers.CharField(read_only=True)
    from_state = serializers.CharField(read_only=True)
    to_state = serializers.CharField(read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)
    comment = serializers.CharField(read_only=True)
    data = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="The key, shown this once; only its hash is stored.")
    token_key = serializers.CharField(read_only=True, help_text="The key's first characters: names the token in the list.")
    expiry = serializers.DateTimeField(read_only=True, allow_null=True)


class TokenListOutput(serializers.Serializer):
    token_key = serializers.CharField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True, allow_null=True)
    current = serializers.SerializerMethodField()

    def get_current(self, token) -> bool:
        """True for the token this very request authenticated with."""
        auth = getattr(self.context.get("request"), "auth", None)
        return getattr(auth, "pk", None) == token.pk


class TokenLoginInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


# --- inputs ------------------------------------------------------------------------------


class AccountCreateInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices, default=Platform.WECOM)
    account_id = serializers.CharField(max_length=64)
    display_name = serializers.CharField(max_length=100)
    account_type = serializers.ChoiceField(choices=AccountType.choices)


class AccountUpdateInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=100)
    account_type = serializers.ChoiceField(choices=AccountType.choices)


class IncidentCreateInput(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=selectors.accounts_for(None))
    banned_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    reason = serializers.ChoiceField(choices=ReasonCategory.choices, default=ReasonCategory.UNKNOWN)
    notice_text = serializers.CharField(max_length=NOTICE_MAX, allow_blank=True, required=False, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the requester's own accounts exist here: a foreign id is "does not exist".
        self.fields["account"].queryset = selectors.accounts_for(_user(self.context.get("request")))

    def validate_banned_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError(_("The time of the ban cannot be in the future."))
        if value < EARLIEST_BAN:
            raise serializers.ValidationError(_("The time of the ban is implausibly early."))
        return value


class IncidentSeverityInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)


class AppealCreateInput(serializers.Serializer):
    incident = serializers.PrimaryKeyRelatedField(queryset=selectors.incidents_for(None))
    statement = serializers.CharField(max_length=STATEMENT_MAX)
    contact_phone = MobileField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = selectors.incidents_for(_user(self.context.get("request")))


class AppealUpdateInput(serializers.Serializer):
    """A draft's own text only; everything else about an appeal is the workflow's."""

    statement = serializers.CharField(max_length=STATEMENT_MAX, required=False)
    contact_phone = MobileField(required=False)


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(max_length=COMMENT_MAX, allow_blank=True, required=False, default="")


class FirstReviewInput(CommentInput):
    decision = serializers.ChoiceField(choices=list(FirstReviewDecision.ACTIONS))


_OUTCOME_HELP = ("Required to approve or reject: an active code of GET /api/v1/outcome-codes/ whose outcome matches the "
                 "decision (a refusing code cannot approve). Errors (400, field `outcome_code`): outcome_code_required, "
                 "outcome_code_unknown, outcome_code_mismatch.")


class SecondReviewInput(CommentInput):
    decision = serializers.ChoiceField(choices=list(SecondReviewDecision.ACTIONS))
    outcome_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="", help_text=_OUTCOME_HELP)


class ManagerDecisionInput(CommentInput):
    decision = serializers.ChoiceField(choices=list(ManagerDecision.ACTIONS))
    outcome_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="", help_text=_OUTCOME_HELP)


class OutcomeCodeOutput(serializers.Serializer):
    code = serializers.CharField()
    outcome = serializers.CharField(help_text="approve or reject: the decision this code may give.")
    label = serializers.CharField(help_text="In the request's language (Accept-Language: zh-Hans or en).")
    reason_template = serializers.CharField()
    next_steps = serializers.CharField()


class ReassignInput(CommentInput):
    assignee = serializers.CharField(max_length=150, help_text="Username or numeric id of the reviewer to hand the case to.")

    def validate_assignee(self, value):
        user = selectors.desk_user_find(identifier=value.strip())
        if user is None:
            raise serializers.ValidationError(_("No active reviewer with this username or id."))
        return user


class PrecedentOutput(serializers.Serializer):
    reference = serializers.CharField(help_text="The decided case (GET /api/v1/appeals/{reference}/).")
    state = serializers.CharField(help_text="approved or rejected")
    enterprise = serializers.CharField()
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    reason = serializers.ChoiceField(choices=ReasonCategory.choices)
    decided_at = serializers.DateTimeField(allow_null=True)
    outcome_code = serializers.CharField()
    outcome_label = serializers.CharField(help_text="In the request's language.")
    decision_reason = serializers.CharField(help_text="In the request's language.")
    score = serializers.FloatField(help_text="kind +3, reason +2, risk flags +2×Jaccard, same account's earlier case +1.")
    matched = serializers.ListField(child=serializers.CharField(), help_text="Which of kind, reason, signals, account matched.")
    shared_signals = serializers.ListField(child=serializers.CharField())
