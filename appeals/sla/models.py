"""Service levels: the policy per severity, the working-day calendar, each case's SLA clock,
and the decision to send a warning/breach notice for it (the messages are outbox rows)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SlaUnit(models.TextChoices):
    CLOCK_HOURS = "clock_hours", _("Hours (around the clock)")
    WORKING_DAYS = "working_days", _("Working days (mainland China calendar)")


class SlaPolicy(models.Model):
    """How long a case of one severity may take from entering first review to its decision."""

    severity = models.CharField(_("severity"), max_length=10, unique=True, choices=[
        ("minor", _("Minor")), ("medium", _("Medium")), ("severe", _("Severe")),
    ])
    unit = models.CharField(_("unit"), max_length=20, choices=SlaUnit.choices)
    amount = models.PositiveIntegerField(_("amount"))
    handling = models.CharField(_("handling"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["severity"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sla_policy_amount_positive")]

    def __str__(self) -> str:
        return f"{self.severity}: {self.amount} {self.unit}"


class WorkCalendarDay(models.Model):
    """A day that differs from the Monday-to-Friday rule: an official holiday on a weekday,
    or a weekend day made a working day. Seeded from the `holidays` library; managers correct it."""

    class Source(models.TextChoices):
        LIBRARY = "library", _("holidays library")
        MANUAL = "manual", _("manual correction")
        OFFICIAL = "official", _("official schedule")

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.LIBRARY)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working else 'off'} {self.note}"


class CalendarYear(models.Model):
    """Whether a year's working-day calendar is the official one (the State Council's notice of
    holidays and make-up working days), or only the Monday-to-Friday rule plus an estimate.
    Due dates that reach into a year that is not confirmed are computed, and flagged."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    confirmed = models.BooleanField(_("confirmed"), default=False)
    source = models.CharField(_("source"), max_length=200, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set when the December reminder for this (not yet confirmed) year was queued: once a year.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self) -> str:
        return f"{self.year} {'confirmed' if self.confirmed else 'unconfirmed'}"


class AppealSla(models.Model):
    """One case's SLA clock and the milestones the reports aggregate.

    The clock spends a budget (policy amount in its unit) while it runs; `running_since`
    is None while the case waits for the applicant (needs_info) or once it is closed.
    Every timestamp is copied from the transition's timeline event in the same transaction.
    """

    appeal = models.OneToOneField("appeals.Appeal", on_delete=models.CASCADE, primary_key=True, related_name="sla")
    # Copied from the appeal so that tenant-scoped report queries use one index.
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(_("severity"), max_length=10)
    # The case's current state and reviewers, copied by the workflow listener so that the
    # report queries read this one table (no join to the appeal for reviewer figures).
    state = models.CharField(_("state"), max_length=20, blank=True)
    first_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    second_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(_("unit"), max_length=20, choices=SlaUnit.choices, blank=True)
    amount = models.PositiveIntegerField(_("amount"), default=0)
    submitted_at = models.DateTimeField(_("submitted"))
    started_at = models.DateTimeField(_("clock started"), null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    spent_clock_seconds = models.BigIntegerField(default=0)
    spent_working_seconds = models.BigIntegerField(default=0)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_seconds = models.BigIntegerField(_("time paused (s)"), default=0)
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The working-day walk to due_at crossed a year whose calendar is not confirmed (CalendarYear):
    # the due time assumed Monday to Friday there, and is shown as provisional.
    calendar_unconfirmed = models.BooleanField(_("calendar not confirmed"), default=False, db_default=False)
    first_claimed_at = models.DateTimeField(null=True, blank=True)
    first_decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    met = models.BooleanField(null=True, blank=True)
    # Automatic resolution: when the rule was last evaluated and why it did not apply.
    auto_rule = models.CharField(max_length=60, blank=True)
    auto_checked_at = models.DateTimeField(null=True, blank=True)
    auto_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            models.Index(fields=["enterprise", "submitted_at"], name="sla_tenant_submitted"),
            models.Index(fields=["enterprise", "closed_at"], name="sla_tenant_closed"),
            models.Index(fields=["enterprise", "first_decided_at"], name="sla_tenant_first_decided"),
            models.Index(fields=["submitted_at"], name="sla_submitted"),
            models.Index(fields=["closed_at"], name="sla_closed"),
            models.Index(fields=["due_at"], name="sla_open_due", condition=Q(closed_at__isnull=True, running_since__isnull=False)),
            # "About to breach" counted without touching the table (/metrics, appeals/ops/gauges.py).
            models.Index(fields=["warn_at"], name="sla_open_warn", condition=Q(closed_at__isnull=True, running_since__isnull=False)),
            models.Index(fields=["enterprise", "due_at"], name="sla_tenant_open_due",
                         condition=Q(closed_at__isnull=True, running_since__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"SLA {self.appeal_id} due {self.due_at}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None and self.closed_at is None


class SlaNotification(models.Model):
    """The decision to send one warning or breach notice for one case and stage: unique, so the
    scan decides once. The messages themselves are outbox rows (topic "sla_notice", this id),
    one per recipient, with their own delivery state."""

    TOPIC = "sla_notice"

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning: most of the allowed time used")
        BREACH = "breach", _("SLA breached")

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.CASCADE, related_name="sla_notifications")
    stage = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("SLA notification")
        verbose_name_plural = _("SLA notifications")
        constraints = [models.UniqueConstraint(fields=["appeal", "stage", "kind"], name="one_sla_notice_per_case_stage_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.appeal_id} {self.stage}"


def default_policy(severity: str) -> tuple[str, int]:
    unit, amount = settings.APPEALS_SLA["POLICIES"][severity]
    return unit, amount


class ReportSnapshot(models.Model):
    """A precomputed all-tenant report for a standard period (the last 30 / 90 / 365 days),
    refreshed by a beat task because over every enterprise the live figures take seconds."""

    key = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")

    def __str__(self) -> str:
        return f"{self.key} @ {self.computed_at}"
