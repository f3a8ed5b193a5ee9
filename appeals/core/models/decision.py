"""Reasoned decisions: the catalogue of outcome codes every final decision names.

Each code belongs to one outcome (approve or reject), carries a reason template and the
applicant's next steps in English and Simplified Chinese, and can be retired (active=False)
without touching the decisions that used it. Managers edit the texts in the Django admin.
The reason templates may use {reference}, {kind}, {reason}, {banned_at} and {account}.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    APPROVE = "approve", _("Restore the account")
    REJECT = "reject", _("Refuse")


class OutcomeCode(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_zh = models.CharField(_("label (Simplified Chinese)"), max_length=120)
    reason_en = models.TextField(_("reason template (English)"))
    reason_zh = models.TextField(_("reason template (Simplified Chinese)"))
    next_steps_en = models.TextField(_("next steps (English)"), blank=True)
    next_steps_zh = models.TextField(_("next steps (Simplified Chinese)"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("outcome code")
        verbose_name_plural = _("outcome codes")

    def __str__(self) -> str:
        return f"{self.code} ({self.label_en})"

    def text(self, field: str, language: str = "") -> str:
        """The Chinese or English version of a text field, for a language code."""
        zh = (language or "").lower().startswith("zh")
        return getattr(self, f"{field}_zh" if zh else f"{field}_en")
