"""Reads for verification and delivery state, for the case page and the API."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.core.models import Appeal
from appeals.notifications.models import Channel, Message
from appeals.verification.models import ChallengeState, VerificationChallenge
from appeals.verification.services import mask_email, mask_phone


def _conf(key):
    return settings.VERIFICATION[key]


def _destination(appeal: Appeal, channel: str) -> str:
    enterprise = appeal.enterprise
    return enterprise.legal_rep_mobile if channel == Channel.SMS else enterprise.admin_email


TEMPLATE_LABELS = {
    "verification_code": _("SMS verification code"),
    "verification_email": _("Email confirmation link"),
    "appeal_needs_info": _("Request for information"),
    "appeal_decided": _("Decision"),
    "appeal_escalated": _("Moved to the hotline channel"),
}


def appeal_messages(*, appeal: Appeal) -> list[Message]:
    """The messages sent about one appeal (the caller already holds a user-scoped appeal)."""
    messages = list(Message.objects.filter(appeal=appeal).order_by("created_at", "id"))
    for message in messages:
        message.label = TEMPLATE_LABELS.get(message.template, message.template)
    return messages


@dataclass
class ChannelStatus:
    channel: str
    destination: str  # masked
    state: str  # none / pending / verified / locked
    attempts_left: int | None
    expires_at: object
    resend_in: int  # seconds until a resend is allowed (0 = now)


def verification_status(*, appeal: Appeal) -> list[ChannelStatus]:
    now = timezone.now()
    out = []
    cooldown = timedelta(seconds=_conf("RESEND_COOLDOWN_SECONDS"))
    for channel in (Channel.SMS, Channel.EMAIL):
        qs = VerificationChallenge.objects.filter(appeal=appeal, channel=channel)
        current = qs.exclude(state=ChallengeState.SUPERSEDED).order_by("-created_at").first()
        latest = qs.order_by("-created_at").first()
        destination = current.destination if current else _destination(appeal, channel)
        state = current.state if current else "none"
        if state == ChallengeState.PENDING and current.expires_at and current.expires_at <= now:
            state = "expired"
        out.append(ChannelStatus(
            channel=channel,
            destination=mask_phone(destination) if channel == Channel.SMS else mask_email(destination),
            state=state,
            attempts_left=(_conf("SMS_MAX_WRONG_ATTEMPTS") - current.attempts) if current and channel == Channel.SMS else None,
            expires_at=current.expires_at if current else None,
            resend_in=max(0, math.ceil((latest.created_at + cooldown - now).total_seconds())) if latest else 0,
        ))
    return out
