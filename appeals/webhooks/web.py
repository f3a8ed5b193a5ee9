"""Webhook pages: the endpoints (register, change, rotate the secret, remove), each endpoint's
delivery log with the managers' "Redeliver" button. A secret is shown on the page that answers
its creation or rotation, once (not stored in the session, not cached)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from appeals.core.models import Role
from appeals.shared.exceptions import DomainError, NotFound, ValidationFailed
from appeals.webhooks import services
from appeals.webhooks.models import WebhookEventType
from appeals.webhooks.selectors import (
    webhook_deliveries,
    webhook_delivery_get,
    webhook_endpoint_get,
    webhook_endpoints_for,
    webhook_figures,
)


def _integrator_only(request):
    if request.user.enterprise_id is None and not request.user.has_role(Role.MANAGER):
        raise PermissionDenied


def _endpoint(request, pk):
    try:
        return webhook_endpoint_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


class EndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=254,
                          widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=gettext_lazy("Events"), choices=WebhookEventType.choices,
                                       widget=forms.CheckboxSelectMultiple, initial=WebhookEventType.values)


class EndpointEditForm(EndpointForm):
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)


def _apply_errors(form, exc: ValidationFailed):
    for field, errors in (exc.fields or {}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _secret_page(request, endpoint, secret, *, created):
    response = render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def endpoint_list(request):
    _integrator_only(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                by=request.user, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                description=form.cleaned_data["description"], platform=request.user.enterprise_id is None)
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    return render(request, "webhooks/list.html", {"endpoints": webhook_endpoints_for(request.user), "form": form,
                                                  "platform": request.user.enterprise_id is None})


@login_required
@never_cache
def endpoint_detail(request, pk):
    _integrator_only(request)
    endpoint = _endpoint(request, pk)
    can_manage = services.may_manage(request.user, endpoint)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events, "active": endpoint.active}
    form = EndpointEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.webhook_endpoint_update(endpoint=endpoint, by=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect("webhook-detail", pk=endpoint.pk)
    page = Paginator(webhook_deliveries(endpoint), 25).get_page(request.GET.get("page"))
    return render(request, "webhooks/detail.html", {
        "endpoint": endpoint, "form": form, "page": page, "can_manage": can_manage,
        "can_redeliver": services.may_redeliver(request.user), "figures": webhook_figures(endpoint),
    })


@login_required
@require_POST
def endpoint_rotate(request, pk):
    _integrator_only(request)
    endpoint = _endpoint(request, pk)
    try:
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("webhook-detail", pk=endpoint.pk)
    return _secret_page(request, endpoint, secret, created=False)


@login_required
@require_POST
def endpoint_delete(request, pk):
    _integrator_only(request)
    endpoint = _endpoint(request, pk)
    try:
        services.webhook_endpoint_delete(endpoint=endpoint, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("webhook-detail", pk=endpoint.pk)
    messages.success(request, _("Endpoint removed."))
    return redirect("webhook-list")


@login_required
@require_POST
def delivery_redeliver(request, pk):
    _integrator_only(request)
    try:
        delivery = webhook_delivery_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        services.webhook_redeliver(delivery=delivery, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Redelivery queued with the same webhook-id."))
    return redirect("webhook-detail", pk=delivery.endpoint_id)


urlpatterns = [
    path("webhooks/", endpoint_list, name="webhook-list"),
    path("webhooks/<int:pk>/", endpoint_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/rotate/", endpoint_rotate, name="webhook-rotate"),
    path("webhooks/<int:pk>/delete/", endpoint_delete, name="webhook-delete"),
    path("webhooks/deliveries/<int:pk>/redeliver/", delivery_redeliver, name="webhook-redeliver"),
]
