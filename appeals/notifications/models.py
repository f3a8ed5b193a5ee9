"""The outbox: every SMS and email the desk sends, with its delivery state.

A row is written in the same transaction as the change that causes it, under a unique
idempotency key, so a message is never lost (a sweeper re-enqueues rows a broker outage
stranded) and never sent twice (a worker claims the row before calling the provider).

Every kind of message is a row here: verification codes and links, the applicant's state
mail, SLA warnings and breaches, surge alerts, signed webhooks (recipient: the endpoint's URL). `topic` + `topic_id` name the thing a message
is about (e.g. "surge_alert", 12) so a capability can list its messages without this
package knowing its models.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.shared.secrets import EncryptedTextField


class Channel(models.TextChoices):
    """The channels that reach a person (the verification proofs are one of each)."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class MessageChannel(models.TextChoices):
    """Every channel the outbox delivers: a person's, and signed webhooks to a system."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    idempotency_key = models.CharField(max_length=200, unique=True)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    challenge = models.ForeignKey(
        "appeals.VerificationChallenge", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    template = models.CharField(_("template"), max_length=60)
    # Template parameters without secrets (a code or link is minted at send time).
    params = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED)
    reason = models.TextField(_("reason"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # What the message is about, for the capability that queued it ("" and None: not said).
    topic = models.CharField(_("topic"), max_length=40, blank=True, default="", db_default="")
    topic_id = models.BigIntegerField(_("topic id"), null=True, blank=True)
    # SMS failover (appeals/notifications/sms/backends/failover.py): the provider the message
    # was last handed to, written BEFORE the call, and whether that call's outcome is unknown
    # (True until the provider answered). A message a provider may hold never goes to another.
    sms_provider = models.CharField(_("SMS provider"), max_length=20, blank=True, default="", db_default="")
    sms_outcome_unknown = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["state", "updated_at"], name="message_sweep"),
            models.Index(fields=["appeal", "created_at"], name="message_appeal"),
            models.Index(fields=["topic", "topic_id"], name="message_topic", condition=~models.Q(topic="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.template} -> {self.recipient} ({self.state})"


class SmsProviderAccount(models.Model):
    """A desk manager's credentials for one SMS provider, overriding the environment's.

    The secret is stored encrypted (appeals/shared/secrets.py: Fernet under
    FIELD_ENCRYPTION_KEYS, re-encrypted by `rotate_secrets`), never shown again after it is
    set, never logged; every change is audited (sms_provider.credentials_set). Desk-wide,
    not an enterprise's: only managers see or change it.
    """

    provider = models.CharField(_("SMS provider"), max_length=20, unique=True)
    key_id = models.CharField(_("key ID"), max_length=128)  # SecretId / AccessKeyId: masked on pages
    secret = EncryptedTextField(_("secret key"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("SMS provider account")
        verbose_name_plural = _("SMS provider accounts")

    def __str__(self) -> str:
        return self.provider

    def __repr__(self) -> str:
        return f"<SmsProviderAccount {self.provider}>"
