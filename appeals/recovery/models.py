"""The recovery plan's data: the managers' step templates per incident kind, and each
appeal's plan with its dated steps (copied from the templates when the plan is built)."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appeals.core.models import IncidentKind

# No step counts further than a year from its reference point.
MAX_DAYS = 365


class Anchor(models.TextChoices):
    """What a step's dates count from."""

    BAN = "ban", _("The ban")
    DECISION = "decision", _("The decision restoring the account")


class RecoveryStepTemplate(models.Model):
    """One step of the plan for an incident kind, in both languages. Changes apply to plans
    built afterwards: a plan keeps the texts and periods it was built with."""

    kind = models.CharField(_("incident kind"), max_length=30, choices=IncidentKind.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    anchor = models.CharField(_("counted from"), max_length=10, choices=Anchor.choices, default=Anchor.BAN)
    title_en = models.CharField(_("title (English)"), max_length=160)
    title_zh = models.CharField(_("title (Simplified Chinese)"), max_length=160)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_zh = models.TextField(_("text (Simplified Chinese)"), blank=True)
    offset_days = models.PositiveSmallIntegerField(_("days after the reference point"), default=0,
                                                   validators=[MaxValueValidator(MAX_DAYS)])
    duration_days = models.PositiveSmallIntegerField(_("period in days (rest or pause)"), default=0,
                                                     validators=[MaxValueValidator(MAX_DAYS)])
    remind_at_end = models.BooleanField(_("remind when the period ends"), default=False)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "order", "id"]
        verbose_name = _("recovery step template")
        verbose_name_plural = _("recovery step templates")
        constraints = [
            models.CheckConstraint(condition=Q(duration_days__lte=MAX_DAYS) & Q(offset_days__lte=MAX_DAYS), name="recovery_template_days_bounded"),
            models.CheckConstraint(condition=Q(remind_at_end=False) | Q(duration_days__gt=0), name="recovery_template_remind_needs_period",
                                   violation_error_message=_("A reminder needs a period: set the period in days.")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.order}: {self.title_en}"

    def text(self, field: str, language: str = "") -> str:
        return getattr(self, f"{field}_zh" if (language or "").lower().startswith("zh") else f"{field}_en")


class RecoveryPlan(models.Model):
    """One appeal's plan; its steps' dates are recomputed when the plan is refreshed (after
    the decision the post-decision steps get their dates)."""

    appeal = models.OneToOneField("appeals.Appeal", on_delete=models.PROTECT, related_name="recovery_plan")
    # Copied from the appeal, so tenancy filters need no join.
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("incident kind"), max_length=30, choices=IncidentKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    refreshed_at = models.DateTimeField(_("dates computed"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery plan")
        verbose_name_plural = _("recovery plans")

    def __str__(self) -> str:
        return f"plan {self.appeal_id} ({self.kind})"


class RecoveryStep(models.Model):
    """One step of a plan: the template's texts and periods as they were, its dates, its tick."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="steps")
    template = models.ForeignKey(RecoveryStepTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"))
    anchor = models.CharField(_("counted from"), max_length=10, choices=Anchor.choices)
    title_en = models.CharField(_("title (English)"), max_length=160)
    title_zh = models.CharField(_("title (Simplified Chinese)"), max_length=160)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_zh = models.TextField(_("text (Simplified Chinese)"), blank=True)
    offset_days = models.PositiveSmallIntegerField(_("days after the reference point"), default=0)
    duration_days = models.PositiveSmallIntegerField(_("period in days (rest or pause)"), default=0)
    remind_at_end = models.BooleanField(_("remind when the period ends"), default=False)
    # None while the reference point has not happened (a post-decision step before approval).
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("ticked"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reminded_at = models.DateTimeField(_("reminder queued"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("recovery step")
        verbose_name_plural = _("recovery steps")
        indexes = [
            # The reminder scan: steps with a reminder not yet queued, by end date.
            models.Index(fields=["ends_on"], name="recovery_step_reminder_due",
                         condition=Q(remind_at_end=True, reminded_at__isnull=True, ends_on__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.order}: {self.title_en}"

    def text(self, field: str, language: str = "") -> str:
        return getattr(self, f"{field}_zh" if (language or "").lower().startswith("zh") else f"{field}_en")
