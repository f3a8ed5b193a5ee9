"""Query filters of the list endpoints (django-filter). Bad values become field-level 400s."""

from django_filters import rest_framework as filters

from appeals.core import search, selectors
from appeals.core.models import Appeal, AppealState, BanIncident, IncidentKind, MessagingAccount, Platform, Severity


def _enterprises(request):
    # Only enterprises the requester may see; anything else is "not a valid choice".
    return selectors.enterprises_for(getattr(request, "user", None))


def _accounts(request):
    return selectors.accounts_for(getattr(request, "user", None))


class AppealFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=AppealState.choices, distinct=False)  # a column of the appeal: no duplicates to remove
    platform = filters.ChoiceFilter(field_name="incident__account__platform", choices=Platform.choices)
    incident_kind = filters.ChoiceFilter(field_name="incident__kind", choices=IncidentKind.choices)
    severity = filters.ChoiceFilter(field_name="incident__severity", choices=Severity.choices)
    enterprise = filters.ModelChoiceFilter(queryset=_enterprises, help_text="Enterprise id (review desk).")
    submitted_from = filters.DateFilter(field_name="submitted_at", lookup_expr="date__gte", help_text="Submitted on or after this date.")
    submitted_to = filters.DateFilter(field_name="submitted_at", lookup_expr="date__lte", help_text="Submitted on or before this date.")
    search = filters.CharFilter(
        method="filter_search", max_length=search.MAX_QUERY_CHARS,
        help_text="Words in the reference, company name, account id or display name, statement or comments "
        "(all must match; Chinese text matches inside longer runs of characters).",
    )

    class Meta:
        model = Appeal
        fields = ["state", "platform", "incident_kind", "severity", "enterprise", "submitted_from", "submitted_to", "search"]

    def filter_search(self, queryset, name, value):
        return search.search_appeals(queryset, value)


class IncidentFilter(filters.FilterSet):
    account = filters.ModelChoiceFilter(queryset=_accounts)
    kind = filters.ChoiceFilter(choices=IncidentKind.choices)
    severity = filters.ChoiceFilter(choices=Severity.choices)

    class Meta:
        model = BanIncident
        fields = ["account", "kind", "severity"]


class AccountFilter(filters.FilterSet):
    platform = filters.ChoiceFilter(choices=Platform.choices)

    class Meta:
        model = MessagingAccount
        fields = ["platform"]
