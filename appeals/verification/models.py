"""The two proofs an appeal needs before first review: an SMS code and an email link.

Secrets are never stored: an SMS code is kept only as a hash, an email link as the hash
of its nonce. Both are created when the message carrying them is actually sent.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appeals.notifications.models import Channel


class ChallengeState(models.TextChoices):
    PENDING = "pending", _("Waiting for the answer")
    VERIFIED = "verified", _("Verified")
    LOCKED = "locked", _("Locked after too many wrong attempts")
    SUPERSEDED = "superseded", _("Replaced by a newer one")


class VerificationChallenge(models.Model):
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="verification_challenges")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The legal representative's mobile (SMS) or the registered admin email, as sent.
    destination = models.CharField(_("destination"), max_length=254)
    state = models.CharField(_("state"), max_length=12, choices=ChallengeState.choices, default=ChallengeState.PENDING)
    secret_hash = models.CharField(max_length=128, blank=True)  # set when the message is sent
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("verification challenge")
        verbose_name_plural = _("verification challenges")
        constraints = [
            # One live challenge per appeal and channel: a resend supersedes the old one.
            models.UniqueConstraint(
                fields=["appeal", "channel"], condition=Q(state="pending"), name="one_pending_challenge_per_channel"
            ),
            models.UniqueConstraint(
                fields=["appeal", "channel"], condition=Q(state="verified"), name="one_verified_challenge_per_channel"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "destination", "created_at"], name="challenge_destination_day"),
            models.Index(fields=["appeal", "channel", "created_at"], name="challenge_appeal_day"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.channel} {self.state}"
