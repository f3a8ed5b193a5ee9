"""The enterprise's WeCom app (credentials encrypted at rest) and the runs that pull its operation records."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.shared.secrets import EncryptedTextField


class WeComConnection(models.Model):
    """One per enterprise: the self-built app whose secret may read the operation records.

    The secret is never shown again after it is saved; pages and the API say only whether it is set.
    `api_base` is fixed at connection time from settings.WECOM_API_BASE (never from the user:
    a client-chosen address would let the worker call anything).
    """

    enterprise = models.OneToOneField("appeals.Enterprise", on_delete=models.PROTECT, related_name="wecom_connection",
                                      verbose_name=_("enterprise"))
    corp_id = models.CharField(_("corp ID"), max_length=64)
    corp_secret = EncryptedTextField(_("corp secret"))
    api_base = models.URLField(_("API address"), max_length=200)
    # The last access token from gettoken, encrypted like the secret, and when it stops working.
    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    connected_at = models.DateTimeField(_("connected"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("secret last replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("WeCom connection")
        verbose_name_plural = _("WeCom connections")

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.corp_id}"


class PullState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PullRun(models.Model):
    """One pull of an appeal's member and admin operation records; its progress is what the case page polls."""

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="wecom_pulls")
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=PullState.choices, default=PullState.QUEUED)
    window_start = models.DateTimeField(_("records from"))
    window_end = models.DateTimeField(_("records until"))
    windows_total = models.PositiveSmallIntegerField(default=0)
    pages_fetched = models.PositiveIntegerField(_("pages fetched"), default=0)
    records = models.PositiveIntegerField(_("records"), default=0)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    token_refreshes = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    evidence = models.ForeignKey("appeals.EvidenceItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("WeCom pull")
        verbose_name_plural = _("WeCom pulls")
        indexes = [models.Index(fields=["appeal", "-created_at"], name="wecompull_appeal_created")]
        constraints = [
            # One pull at a time per appeal.
            models.UniqueConstraint(fields=["appeal"], condition=models.Q(state__in=["queued", "running"]),
                                    name="wecompull_one_active_per_appeal"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.state}"
