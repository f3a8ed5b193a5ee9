"""Webhook endpoints (an enterprise's own, or platform-wide), the events sent to them, and the
delivery log: one row per attempt to deliver one event to one endpoint."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.shared.secrets import EncryptedTextField


class WebhookEventType(models.TextChoices):
    SUBMITTED = "appeal.submitted", _("Appeal submitted")
    DECIDED = "appeal.decided", _("Appeal decided")
    ESCALATED = "appeal.escalated", _("Appeal escalated to the hotline")
    WITHDRAWN = "appeal.withdrawn", _("Appeal withdrawn")


class WebhookEndpoint(models.Model):
    """Where an enterprise (or, with no enterprise, the platform: every enterprise's events)
    wants its events. The secret is encrypted at rest and shown once, at creation or rotation."""

    TOPIC = "webhook_endpoint"  # the outbox's topic for its messages

    enterprise = models.ForeignKey("appeals.Enterprise", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="webhook_endpoints", verbose_name=_("enterprise"))
    url = models.URLField(_("URL"), max_length=254)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The event types it receives (WebhookEventType values).
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    secret = EncryptedTextField(_("signing secret"))
    # After a rotation the old secret signs too (a second signature) until it expires.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["enterprise", "active"], name="webhook_endpoint_scope")]

    def __str__(self) -> str:
        return self.url

    @property
    def is_platform(self) -> bool:
        return self.enterprise_id is None


class WebhookEvent(models.Model):
    """One event as sent: its id (the `webhook-id` header, the same on every retry and
    redelivery) and the exact JSON body, kept so a redelivery sends the same bytes."""

    webhook_id = models.CharField(_("event id"), max_length=40, unique=True)
    type = models.CharField(_("event"), max_length=30, choices=WebhookEventType.choices)
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()
    occurred_at = models.DateTimeField(_("occurred"))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"


class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    TRANSIENT = "transient", _("Failed, retried")
    REFUSED = "refused", _("Refused")


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint, as the worker saw it."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    message = models.ForeignKey("appeals.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=DeliveryOutcome.choices)
    error = models.CharField(_("error"), max_length=300, blank=True)
    # Queued by a manager's redelivery rather than by the event itself.
    manual = models.BooleanField(_("manual redelivery"), default=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} #{self.attempt}: {self.outcome}"
