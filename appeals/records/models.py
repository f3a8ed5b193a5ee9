"""What the backup and restore-drill runs record."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    BACKUP = "backup", _("Backup")
    RESTORE_DRILL = "restore_drill", _("Restore drill")


class RecordsRun(models.Model):
    """One backup or restore drill: when, where from/to, and whether it held."""

    TOPIC = "records_run"  # outbox topic of the managers' failure emails

    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ok = models.BooleanField(_("succeeded"), null=True)
    snapshot = models.CharField(_("snapshot"), max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("backup or restore drill run")
        verbose_name_plural = _("backup and restore drill runs")
        indexes = [models.Index(fields=["kind", "started_at"], name="records_run_kind_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'failed' if self.ok is False else 'running'}"
