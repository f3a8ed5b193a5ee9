"""Forms for the web pages. They check shape; the services decide what is allowed."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.core.models import AppealState, IncidentKind, ReasonCategory, User
from appeals.core.workflow import Action
from appeals.shared.validators import MOBILE_INPUT_MAX_LENGTH, normalise_mobile, validate_mobile

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def add_domain_error(form: forms.Form, exc) -> None:
    """Put a DomainError on the form: its field messages on the fields, the rest on top."""
    placed = False
    for field, messages in (exc.fields or {}).items():
        for message in [messages] if isinstance(messages, str) else messages:
            form.add_error(field if field in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class NewAppealForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Messaging account"), queryset=None, empty_label=None)
    kind = forms.ChoiceField(label=_("What happened"), choices=IncidentKind.choices)
    reason = forms.ChoiceField(label=_("Reason given or suspected"), choices=ReasonCategory.choices, initial=ReasonCategory.UNKNOWN)
    banned_at = forms.DateTimeField(
        label=_("Time of the ban"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    notice_text = forms.CharField(
        label=_("Platform notice text"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Copy the wording of the ban notice, if there was one."),
    )
    statement = forms.CharField(
        label=_("Statement"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Explain why the ban should be lifted."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=MOBILE_INPUT_MAX_LENGTH, validators=[validate_mobile],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    INCIDENT_FIELDS = ("account", "kind", "reason", "banned_at", "notice_text")

    def __init__(self, *args, accounts, enterprise, incident=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("contact_phone", enterprise.admin_phone)
        initial.setdefault("banned_at", timezone.localtime().strftime(DATETIME_LOCAL))
        if incident is not None:
            # Appealing a recorded incident (pushed by the enforcement system): its facts are
            # shown pre-filled and fixed; only the appeal itself is asked for.
            initial.update({
                "account": incident.account_id, "kind": incident.kind, "reason": incident.reason,
                "banned_at": timezone.localtime(incident.banned_at).strftime(DATETIME_LOCAL),
                "notice_text": incident.notice_text,
            })
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        if accounts.count() == 1:
            self.fields["account"].initial = accounts.first()
        if incident is not None:
            for name in self.INCIDENT_FIELDS:
                self.fields[name].disabled = True

    def clean_contact_phone(self):
        return normalise_mobile(self.cleaned_data["contact_phone"])

    def clean_banned_at(self):
        value = self.cleaned_data["banned_at"]
        if self.fields["banned_at"].disabled:
            return value
        # A minute of slack for a phone whose clock runs a little ahead.
        if value > timezone.now() + timezone.timedelta(minutes=1):
            raise forms.ValidationError(_("The time of the ban cannot be in the future."))
        return value


class AppealFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Search"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Reference, company, account or words")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *AppealState.choices])
    kind = forms.ChoiceField(label=_("Incident kind"), required=False, choices=[("", _("Any kind")), *IncidentKind.choices])
    date_from = forms.DateField(label=_("Filed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Filed until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class ActionForm(forms.Form):
    """One workflow move on a case: which action, with an optional comment and assignee.

    Every action is accepted here; whether it is allowed now is the workflow's decision,
    so a stale page gets the workflow's own message (e.g. "already claimed").
    """

    action = forms.ChoiceField(label=_("Decision"), choices=Action.choices)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none(), required=False)
    # Required by the workflow for a final decision (appeals.core.decisions), not here.
    outcome_code = forms.CharField(label=_("Outcome code"), required=False, max_length=40)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assignees is not None:
            self.fields["assignee"].queryset = assignees
