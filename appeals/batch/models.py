"""Batch review: a group of alike open appeals that one first reviewer recommends with one
reasoned comment and a second reviewer confirms or splits, each case still moving on its own
(appeals.batch.services). The group remembers the surge alert that brought the wave, if any."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class GroupState(models.TextChoices):
    OPEN = "open", _("Open")
    RECOMMENDING = "recommending", _("Recommending")
    RECOMMENDED = "recommended", _("Recommended")
    CONFIRMING = "confirming", _("Confirming")
    DONE = "done", _("Done")


class Recommendation(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class MemberStatus(models.TextChoices):
    INCLUDED = "included", _("Included")
    EXCLUDED = "excluded", _("Excluded")
    RECOMMENDED = "recommended", _("Recommended")
    SPLIT = "split", _("Split off")
    DECIDED = "decided", _("Decided")
    SKIPPED = "skipped", _("Skipped")


# A member in one of these states still belongs to the group's work: an appeal is in at most one such group.
ACTIVE_MEMBER_STATUSES = (MemberStatus.INCLUDED, MemberStatus.RECOMMENDED)


class BatchGroup(models.Model):
    kind = models.CharField(_("incident kind"), max_length=30)
    reason = models.CharField(_("reason category"), max_length=30)
    banned_from = models.DateTimeField(_("first ban"))
    banned_to = models.DateTimeField(_("last ban"))
    risk_rules = models.JSONField(_("risk flags"), default=list, blank=True)
    surge_alert = models.ForeignKey("appeals.SurgeAlert", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("surge alert"))
    state = models.CharField(_("state"), max_length=20, choices=GroupState.choices, default=GroupState.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices, blank=True)
    outcome_code = models.CharField(_("outcome code"), max_length=40, blank=True)
    comment = models.TextField(_("reasoned comment"), blank=True)
    recommended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recommended_at = models.DateTimeField(_("recommended"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # Progress of the running step (recommend or confirm), written once per chunk; the page polls it.
    job_total = models.PositiveIntegerField(default=0)
    job_done = models.PositiveIntegerField(default=0)
    job_skipped = models.PositiveIntegerField(default=0)
    job_started_at = models.DateTimeField(null=True, blank=True)
    job_finished_at = models.DateTimeField(null=True, blank=True)
    job_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch review group")
        verbose_name_plural = _("batch review groups")
        indexes = [models.Index(fields=["state", "-created_at"], name="batch_group_state")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["open", "recommending", "recommended", "confirming", "done"]),
                                   name="batch_group_state_valid"),
        ]

    def __str__(self) -> str:
        return f"batch #{self.pk} {self.kind}/{self.reason}"

    @property
    def is_running(self) -> bool:
        return self.state in (GroupState.RECOMMENDING, GroupState.CONFIRMING)


class BatchMember(models.Model):
    group = models.ForeignKey(BatchGroup, on_delete=models.CASCADE, related_name="members")
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.INCLUDED)
    # Why a case left the group's work (skipped: changed meanwhile, refused by separation of duties, ...).
    note = models.TextField(_("note"), blank=True)
    note_code = models.CharField(max_length=40, blank=True)
    # The case as the group last left it: a case changed since (withdrawn, resubmitted, claimed
    # elsewhere) is skipped, not decided on a picture that no longer holds.
    seen_updated_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("batch review member")
        verbose_name_plural = _("batch review members")
        constraints = [
            models.UniqueConstraint(fields=["group", "appeal"], name="batch_member_once"),
            models.UniqueConstraint(fields=["appeal"], condition=Q(status__in=["included", "recommended"]),
                                    name="batch_member_one_active_group"),
        ]
        indexes = [models.Index(fields=["group", "status"], name="batch_member_status")]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.appeal_id} {self.status}"
