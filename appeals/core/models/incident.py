"""A ban incident: what the platform did to one messaging account, and when."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentKind(models.TextChoices):
    """The seven kinds of account trouble of DOMAIN.md, mildest first."""

    DESKTOP_LOGOUT = "desktop_logout", _("Desktop client logged out")
    CANNOT_BE_ADDED = "cannot_be_added", _("Others cannot add the account")
    ADDS_RESTRICTED = "adds_restricted", _("Adding friends temporarily restricted")
    REQUESTS_FAIL = "requests_fail", _("Friend requests fail to send")
    SHORT_BAN = "short_ban", _("Short ban after complaints")
    PERMANENT_BAN = "permanent_ban", _("Permanent ban of the account")
    ENTITY_BAN = "entity_ban", _("Whole enterprise entity banned")


class ReasonCategory(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ILLEGAL_CONTENT = "illegal_content", _("Illegal content")
    COMPROMISED = "compromised", _("Compromised account / abnormal login")
    PLUGIN = "plugin", _("Third-party plug-in")
    FREQUENT_ADDS = "frequent_adds", _("Too-frequent friend adds")
    SENSITIVE_WORDS = "sensitive_words", _("Sensitive words in add messages")
    REAL_NAME = "real_name", _("Missing real-name verification")
    USER_REPORTS = "user_reports", _("User reports")
    UNKNOWN = "unknown", _("Unknown")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MEDIUM = "medium", _("Medium")
    SEVERE = "severe", _("Severe")


def default_severity(kind: str) -> str:
    return settings.APPEALS_DEFAULT_SEVERITY[kind]


class BanIncident(models.Model):
    # The enterprise is copied from the account so that tenancy filters need no join.
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="incidents")
    account = models.ForeignKey("appeals.MessagingAccount", on_delete=models.PROTECT, related_name="incidents")
    banned_at = models.DateTimeField(_("time of the ban"))
    kind = models.CharField(_("incident kind"), max_length=30, choices=IncidentKind.choices)
    reason = models.CharField(_("reason category"), max_length=30, choices=ReasonCategory.choices, default=ReasonCategory.UNKNOWN)
    notice_text = models.TextField(_("platform notice text"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-banned_at"]
        verbose_name = _("ban incident")
        verbose_name_plural = _("ban incidents")
        indexes = [models.Index(fields=["account", "banned_at"], name="incident_account_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.account.display_name}"
