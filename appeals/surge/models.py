"""Surge detection: the alerts a jump in appeal volume opens and the managers' thresholds (one
row overriding settings.SURGE). The managers' messages about an alert are outbox rows
(appeals.notifications, topic "surge_alert" and the alert's id)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appeals.core.models import Enterprise, IncidentKind, Platform


class SurgeDimension(models.TextChoices):
    """The slices appeal volume is counted in."""

    ALL = "all", _("All appeals")
    PLATFORM = "platform", _("Platform")
    KIND = "kind", _("Incident kind")
    ENTERPRISE = "enterprise", _("Enterprise")


class SurgeState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# An alert in one of these states keeps the emergency channel open.
ACTIVE_SURGE_STATES = (SurgeState.OPEN, SurgeState.ACKNOWLEDGED)


class SurgeResolution(models.TextChoices):
    MANUAL = "manual", _("Resolved by a manager")
    AUTO = "auto", _("Volume back to normal")


def slice_label(dimension: str, value: str) -> str:
    if dimension == SurgeDimension.ALL:
        return str(SurgeDimension.ALL.label)
    if dimension == SurgeDimension.PLATFORM:
        shown = Platform(value).label if value in Platform.values else value
    elif dimension == SurgeDimension.KIND:
        shown = IncidentKind(value).label if value in IncidentKind.values else value
    else:
        shown = Enterprise.objects.filter(pk=value).values_list("name", flat=True).first() or value
    return f"{SurgeDimension(dimension).label}: {shown}"


class SurgeAlert(models.Model):
    dimension = models.CharField(_("dimension"), max_length=20, choices=SurgeDimension.choices)
    value = models.CharField(_("value"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=SurgeState.choices, default=SurgeState.OPEN)
    # The evidence at opening: `count` appeals in the `window_minutes` before opened_at,
    # against a usual level of `usual` for the same window on previous days.
    window_minutes = models.PositiveIntegerField(_("window (minutes)"))
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("appeals in the window"))
    usual = models.FloatField(_("usual level"))
    ratio = models.FloatField(_("ratio to usual"), null=True, blank=True)
    floor = models.PositiveIntegerField(_("floor"))
    factor = models.FloatField(_("factor"))
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(_("resolution"), max_length=10, choices=SurgeResolution.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("surge alert")
        verbose_name_plural = _("surge alerts")
        constraints = [
            # Concurrent submissions race to open the same slice's alert: the database
            # lets exactly one in (the others get IntegrityError and stand down).
            models.UniqueConstraint(
                fields=["dimension", "value"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="one_active_surge_alert_per_slice",
            ),
            models.CheckConstraint(
                condition=Q(state="resolved", resolved_at__isnull=False) | (~Q(state="resolved") & Q(resolved_at__isnull=True)),
                name="surge_resolved_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "dimension", "value"], name="surge_alert_active")]

    def __str__(self) -> str:
        return f"{self.slice_label} @ {self.opened_at:%Y-%m-%d %H:%M}"

    TOPIC = "surge_alert"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_SURGE_STATES

    @property
    def slice_label(self) -> str:
        # Lists set _slice_label for a page at once (appeals.surge.selectors.with_slice_labels).
        if getattr(self, "_slice_label", None) is None:
            self._slice_label = slice_label(self.dimension, self.value)
        return self._slice_label


class SurgeSettings(models.Model):
    """The managers' thresholds; while no row exists, settings.SURGE applies."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(720)])
    floor = models.PositiveIntegerField(_("floor (appeals per window)"), validators=[MinValueValidator(1)])
    factor = models.FloatField(_("factor over the usual level"), validators=[MinValueValidator(1.0), MaxValueValidator(100.0)])
    history_days = models.PositiveIntegerField(_("history (days)"), validators=[MinValueValidator(1), MaxValueValidator(28)])
    quiet_windows = models.PositiveIntegerField(_("quiet windows before auto-resolve"), validators=[MinValueValidator(1), MaxValueValidator(48)])
    hotline = models.CharField(_("emergency hotline"), max_length=40)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("surge settings")
        verbose_name_plural = _("surge settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="surge_settings_singleton")]

    def __str__(self) -> str:
        return "surge settings"
