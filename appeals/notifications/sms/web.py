"""The managers' SMS provider keys page: where each provider's keys come from, and a form to
store or replace (rotate) them. The secret is write-only: never shown, never sent back."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.notifications.sms import credentials
from appeals.notifications.sms.health import LABELS
from appeals.shared.exceptions import ValidationFailed


class CredentialsForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), choices=[(p, LABELS.get(p, p)) for p in credentials.FIELDS])
    key_id = forms.CharField(label=gettext_lazy("Key ID (SecretId / AccessKeyId)"), max_length=128)
    secret = forms.CharField(label=gettext_lazy("Secret key"), max_length=512,
                             widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))


def _is_manager(user) -> bool:
    return user.is_superuser or getattr(user, "is_manager", False)


@login_required
def sms_providers(request):
    if not _is_manager(request.user):
        raise PermissionDenied
    form = CredentialsForm()
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            provider = request.POST.get("provider", "")
            if credentials.sms_credentials_clear(provider=provider, by=request.user):
                messages.success(request, _("The stored keys of %(provider)s were removed; the environment's apply again.")
                                 % {"provider": LABELS.get(provider, provider)})
            return redirect("sms_providers")
        form = CredentialsForm(request.POST)
        if form.is_valid():
            try:
                credentials.sms_credentials_set(by=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                provider = form.cleaned_data["provider"]
                messages.success(request, _("The keys of %(provider)s are stored, encrypted.") % {"provider": LABELS.get(provider, provider)})
                return redirect("sms_providers")
    accounts = [{**row, "label": LABELS.get(row["provider"], row["provider"])} for row in credentials.sms_accounts()]
    return render(request, "notifications/sms_providers.html", {"form": form, "accounts": accounts},
                  status=400 if form.is_bound and form.errors else 200)


urlpatterns = [path("manager/sms-providers/", sms_providers, name="sms_providers")]
