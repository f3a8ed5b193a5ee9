"""Service accounts of the enforcement system, and the incidents they pushed."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ServiceAccount(models.Model):
    """A machine user of the intake API: it pushes ban incidents for the enterprises it serves
    and can do nothing else (its user belongs to no enterprise and sits on no desk, so every
    other read is empty and every other write refused)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_account",
                                verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    enterprises = models.ManyToManyField("appeals.Enterprise", related_name="service_accounts", blank=True,
                                         verbose_name=_("enterprises served"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PushedIncident(models.Model):
    """Where a ban incident came from when the enforcement system pushed it (source "enforcement")."""

    incident = models.OneToOneField("appeals.BanIncident", on_delete=models.PROTECT, related_name="pushed",
                                    verbose_name=_("ban incident"))
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="pushed",
                                        verbose_name=_("service account"))
    # The enforcement system's own id of the incident: pushed twice, it exists once.
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    pushed_at = models.DateTimeField(_("pushed"), auto_now_add=True)

    class Meta:
        ordering = ["-pushed_at", "-id"]
        verbose_name = _("pushed incident")
        verbose_name_plural = _("pushed incidents")
        constraints = [
            models.UniqueConstraint(fields=["service_account", "external_id"], condition=~Q(external_id=""),
                                    name="pushed_incident_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.service_account} · {self.external_id or self.incident_id}"
