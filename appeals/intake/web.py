"""The managers' page for the enforcement system's service accounts: create one, set the
enterprises it serves, issue its API token (shown once, on the answer to that POST only), revoke it.
Reads through the intake's selectors, writes through its services."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.core.models import Enterprise
from appeals.core.web.forms import add_domain_error
from appeals.core.web.views import manager_required
from appeals.intake import selectors, services
from appeals.shared.exceptions import DomainError


class ServiceAccountForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("Which system this is, e.g. \"WeCom enforcement, Shanghai\"."))
    enterprises = forms.ModelMultipleChoiceField(label=gettext_lazy("Enterprises served"), required=False,
                                                 queryset=Enterprise.objects.order_by("name"),
                                                 widget=forms.CheckboxSelectMultiple)


class ScopeForm(forms.Form):
    enterprises = forms.ModelMultipleChoiceField(label=gettext_lazy("Enterprises served"), required=False,
                                                 queryset=Enterprise.objects.order_by("name"),
                                                 widget=forms.CheckboxSelectMultiple)


@manager_required
def service_accounts_page(request):
    user = request.user
    create = ServiceAccountForm(request.POST if request.POST.get("op") == "create" else None)
    issued = None  # (service account, key): shown once, on this answer only
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "create":
                if create.is_valid():
                    sa = services.service_account_create(by=user, name=create.cleaned_data["name"],
                                                         enterprises=list(create.cleaned_data["enterprises"]))
                    messages.success(request, _("Service account %(name)s created.") % {"name": sa.name})
                    return redirect("intake-service-accounts")
                status = 400
            else:
                sa = selectors.service_account_get(user=user, pk=request.POST.get("service_account") or 0)
                if op == "scope":
                    scope = ScopeForm(request.POST, prefix=f"sa{sa.pk}")
                    if scope.is_valid():
                        services.service_account_scope(by=user, service_account=sa,
                                                       enterprises=list(scope.cleaned_data["enterprises"]))
                        messages.success(request, _("Enterprises served by %(name)s saved.") % {"name": sa.name})
                        return redirect("intake-service-accounts")
                    status = 400
                elif op == "token":
                    _instance, key = services.service_account_token_issue(by=user, service_account=sa)
                    issued = (sa, key)
                elif op == "revoke":
                    services.service_account_revoke(by=user, service_account=sa)
                    messages.success(request, _("Service account %(name)s revoked.") % {"name": sa.name})
                    return redirect("intake-service-accounts")
                else:
                    status = 400
        except DomainError as exc:
            if op == "create":
                add_domain_error(create, exc)
            else:
                messages.error(request, exc.message)
            status = exc.status
    accounts = list(selectors.service_accounts_for(user))
    for sa in accounts:
        sa.scope_form = ScopeForm(initial={"enterprises": list(sa.enterprises.all())}, prefix=f"sa{sa.pk}")
    response = render(request, "appeals/intake/service_accounts.html", {
        "accounts": accounts, "create": create, "issued": issued,
    }, status=status)
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the key is on this page once; never cached
    return response


urlpatterns = [
    path("manager/service-accounts/", service_accounts_page, name="intake-service-accounts"),
]
