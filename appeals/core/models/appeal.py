"""The appeal (one case) and its timeline of events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AppealState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    FIRST_REVIEW = "first_review", _("First review")
    SECOND_REVIEW = "second_review", _("Second review")
    NEEDS_INFO = "needs_info", _("Needs information")
    ESCALATED = "escalated", _("Escalated to hotline")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATES = (AppealState.APPROVED, AppealState.REJECTED, AppealState.WITHDRAWN)
DECIDED_STATES = (AppealState.APPROVED, AppealState.REJECTED)


class ReferenceSequence(models.Model):
    """Per-year counter behind AP-YYYY-NNNNNN references (row-locked when drawn)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Appeal(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="appeals")
    incident = models.ForeignKey("appeals.BanIncident", on_delete=models.PROTECT, related_name="appeals")
    statement = models.TextField(_("statement"))
    contact_phone = models.CharField(_("contact phone"), max_length=11)
    state = models.CharField(_("state"), max_length=20, choices=AppealState.choices, default=AppealState.DRAFT)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals_filed")
    first_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Stage a needs_info case goes back to when the applicant resubmits.
    resume_state = models.CharField(max_length=20, choices=AppealState.choices, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # Filed in a surging slice while its alert was open: sorts first in the reviewer queues.
    is_emergency = models.BooleanField(_("emergency"), default=False, db_index=True)
    # Retention (appeals.records.retention): a manager's legal hold stops the personal-data
    # clock of a closed case; the erasure time is kept once its personal data is gone.
    legal_hold = models.BooleanField(_("legal hold"), default=False, db_default=False)
    personal_data_erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)
    # The reasoned decision (appeals.core.decisions): the outcome code's slug and its reason
    # rendered for this case in both languages when the decision was taken.
    outcome_code = models.CharField(_("outcome code"), max_length=40, blank=True, default="", db_default="")
    decision_reason_en = models.TextField(_("decision reason (English)"), blank=True, default="", db_default="")
    decision_reason_zh = models.TextField(_("decision reason (Simplified Chinese)"), blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=~Q(state__in=[s.value for s in CLOSED_STATES]),
                name="one_open_appeal_per_incident",
                violation_error_message=_("This incident already has an open appeal."),
            ),
            models.CheckConstraint(
                condition=Q(second_reviewer__isnull=True)
                | Q(first_reviewer__isnull=True)
                | ~Q(second_reviewer=models.F("first_reviewer")),
                name="second_reviewer_differs_from_first",
            ),
        ]
        indexes = [
            models.Index(fields=["enterprise", "state", "created_at"], name="appeal_tenant_state"),
            models.Index(fields=["state", "created_at"], name="appeal_queue"),
            models.Index(fields=["contact_phone", "submitted_at"], name="appeal_phone_month"),
            # Surge counting reads bounded time ranges of submissions (rebuild, charts).
            models.Index(fields=["submitted_at"], name="appeal_submitted"),
            # The appeal list, newest first (selectors.appeal_list_for): the desk's view (no drafts),
            # an enterprise's own, and either narrowed to one state.
            models.Index(fields=["-created_at", "-id"], name="appeal_desk_list", condition=~models.Q(state="draft")),
            models.Index(fields=["enterprise", "-created_at", "-id"], name="appeal_tenant_list"),
            models.Index(fields=["state", "-created_at", "-id"], name="appeal_state_list"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES

    @property
    def is_decided(self) -> bool:
        return self.state in DECIDED_STATES


class AppealEvent(models.Model):
    """One line of a case's timeline: a transition or a note, never edited."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(max_length=20, choices=AppealState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=AppealState.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        indexes = [models.Index(fields=["appeal", "created_at"], name="event_appeal_time")]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} -> {self.to_state}"
