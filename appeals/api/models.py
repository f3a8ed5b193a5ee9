"""The API shell's one table: the first answer to each POST sent with an Idempotency-Key
(appeals/api/idempotency.py), kept for a day so that a retried request is answered, not redone."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.shared.secrets import EncryptedTextField


class IdempotencyRecord(models.Model):
    # Who sent the key ("user:<pk>"): keys are the client's own, never shared between users.
    identity = models.CharField(_("client identity"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused (422).
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    method = models.CharField(_("method"), max_length=10)
    path = models.TextField(_("path"))
    # Empty while the first request is still being answered (another with the key waits, then 409).
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    headers = models.JSONField(_("headers replayed"), default=dict, blank=True)
    # Encrypted: an answer may carry a secret shown once (an API token issued to a service account).
    body = EncryptedTextField(_("response body"), blank=True)
    started_at = models.DateTimeField(_("started"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["identity", "key"], name="idempotency_identity_key")]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expiry")]

    def __str__(self) -> str:
        return f"{self.identity} {self.key}"
