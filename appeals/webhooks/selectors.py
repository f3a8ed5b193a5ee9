"""Webhook reads, scoped to the user who asks: an enterprise admin sees their enterprise's
endpoints and their delivery logs; managers see every endpoint; other staff none."""

from django.db.models import Count, Q, QuerySet

from appeals.core.models import Role
from appeals.shared.exceptions import NotFound
from appeals.webhooks.models import DeliveryOutcome, WebhookDelivery, WebhookEndpoint


def webhook_endpoints_for(user) -> QuerySet[WebhookEndpoint]:
    if not user or not user.is_authenticated or not user.is_active:
        return WebhookEndpoint.objects.none()
    if user.enterprise_id is not None:
        return WebhookEndpoint.objects.filter(enterprise_id=user.enterprise_id)
    if user.has_role(Role.MANAGER):
        return WebhookEndpoint.objects.select_related("enterprise")
    return WebhookEndpoint.objects.none()


def webhook_endpoint_get(*, user, pk) -> WebhookEndpoint:
    try:
        return webhook_endpoints_for(user).get(pk=pk)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def webhook_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """One endpoint's delivery log, newest attempt first."""
    return endpoint.deliveries.select_related("event", "message").order_by("-created_at", "-id")


def webhook_delivery_get(*, user, pk) -> WebhookDelivery:
    try:
        return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=pk, endpoint__in=webhook_endpoints_for(user))
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def webhook_figures(endpoint: WebhookEndpoint | None = None) -> dict:
    """Deliveries (events acknowledged with a 2xx), retries (attempts after a failed one) and
    duplicates (an event acknowledged more than once without a manager asking): the note's figures."""
    log = WebhookDelivery.objects.all() if endpoint is None else WebhookDelivery.objects.filter(endpoint=endpoint)
    delivered = log.filter(outcome=DeliveryOutcome.DELIVERED, manual=False)
    per_event = delivered.values("event_id", "endpoint_id").annotate(n=Count("id"))
    return {
        "deliveries": per_event.count(),
        "retries": log.filter(attempt__gt=1).count(),
        "duplicates": sum(row["n"] - 1 for row in per_event.filter(n__gt=1)),
        "failed_attempts": log.filter(~Q(outcome=DeliveryOutcome.DELIVERED)).count(),
    }
