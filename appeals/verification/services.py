"""Verification: an SMS code to the legal representative and a link to the admin email.

Submitting an appeal starts both (a workflow listener); the ACCEPT guard holds the case
in `submitted` until both pass, and the service that passes the second one moves it on
to first review. A reviewer may instead send an unverifiable case to the manual
(hotline) channel with a reason. Policy numbers: settings.VERIFICATION.

Transactions (appeals.shared.db): resending, answering and escalating are entry points, each
one durable transaction; `verification_start` and `challenge_mint_secret` are building blocks
that run inside the submit transition and the outbox's delivery claim respectively.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from appeals.audit.services import audit_record
from appeals.core.models import Appeal, AppealState
from appeals.core.services.appeals import appeal_try_accept
from appeals.core.workflow import Action, apply_transition
from appeals.notifications import rendering
from appeals.notifications.models import Channel
from appeals.notifications.outbox import message_queue
from appeals.shared.context import site_url
from appeals.shared.db import advisory_xact_lock, entry_point
from appeals.shared.exceptions import GuardFailed, PermissionDenied, RateLimited, ValidationFailed
from appeals.verification.models import ChallengeState, VerificationChallenge

SMS_TEMPLATE = "verification_code"
EMAIL_TEMPLATE = "verification_email"


def _conf(key):
    return settings.VERIFICATION[key]


def mask_phone(phone: str) -> str:
    """138****5678: enough for the owner to recognise, not enough to copy."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


def mask_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _audit(challenge: VerificationChallenge, action: str, by=None, **after) -> None:
    audit_record(actor=by, action=f"verification.{action}", target_type="appeals.appeal", target_id=challenge.appeal.reference,
                 enterprise_id=challenge.appeal.enterprise_id,
                 after={"channel": challenge.channel, "challenge": challenge.pk, "state": challenge.state, **after})


# --- starting and resending -------------------------------------------------------------------


def _destination(appeal: Appeal, channel: str) -> str:
    enterprise = appeal.enterprise
    return enterprise.legal_rep_mobile if channel == Channel.SMS else enterprise.admin_email


def _issue(*, appeal: Appeal, channel: str, language: str, by=None) -> VerificationChallenge:
    VerificationChallenge.objects.filter(appeal=appeal, channel=channel, state=ChallengeState.PENDING).update(
        state=ChallengeState.SUPERSEDED
    )
    challenge = VerificationChallenge.objects.create(
        appeal=appeal, channel=channel, destination=_destination(appeal, channel), language=language
    )
    enterprise = appeal.enterprise
    params = {"reference": appeal.reference, "company": enterprise.name}
    if channel == Channel.EMAIL:
        params["admin_name"] = enterprise.admin_name
        params["site_url"] = site_url()  # the link is minted at send time, maybe in a worker
    message_queue(
        channel=channel, recipient=challenge.destination, template=SMS_TEMPLATE if channel == Channel.SMS else EMAIL_TEMPLATE,
        params=params, idempotency_key=f"verification:{challenge.pk}", appeal=appeal, challenge=challenge, language=language,
    )
    _audit(challenge, "issue", by=by)
    return challenge


def verification_start(*, appeal: Appeal, language: str | None = None) -> list[VerificationChallenge]:
    """Both proofs for a freshly submitted appeal (runs inside the SUBMIT transition)."""
    language = rendering.normalise_language(language or get_language())
    return [_issue(appeal=appeal, channel=channel, language=language) for channel in (Channel.SMS, Channel.EMAIL)]


def _retry_after(moment, now) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _check_send_limits(*, appeal: Appeal, channel: str, now) -> None:
    window = timedelta(hours=_conf("CAP_WINDOW_HOURS"))
    day_ago = now - window
    last = VerificationChallenge.objects.filter(appeal=appeal, channel=channel).order_by("-created_at").first()
    cooldown = timedelta(seconds=_conf("RESEND_COOLDOWN_SECONDS"))
    if last and last.created_at + cooldown > now:
        wait = _retry_after(last.created_at + cooldown, now)
        raise RateLimited(ngettext("You can ask for a new one in %(n)d second.", "You can ask for a new one in %(n)d seconds.", wait)
                          % {"n": wait}, code="resend_cooldown", retry_after=wait)
    recent = VerificationChallenge.objects.filter(appeal=appeal, channel=channel, created_at__gt=day_ago).order_by("created_at")
    if recent.count() >= _conf("DAILY_CAP_PER_APPEAL"):
        wait = _retry_after(recent.first().created_at + window, now)
        raise RateLimited(_("This appeal has reached its limit of %(n)d messages of this kind in %(hours)d hours.")
                          % {"n": _conf("DAILY_CAP_PER_APPEAL"), "hours": _conf("CAP_WINDOW_HOURS")},
                          code="appeal_daily_cap", retry_after=wait)
    if channel == Channel.SMS:
        # Resends to one phone queue one at a time (before the audit chain lock, in the
        # documented order); the per-phone daily cap itself is the outbox's, for every SMS
        # (appeals.notifications.outbox._check_sms_cap): message_queue refuses with
        # `phone_daily_cap` and this whole resend is rolled back.
        advisory_xact_lock("verification-sms-phone", _destination(appeal, channel))


def _awaiting(appeal: Appeal) -> None:
    if appeal.state != AppealState.SUBMITTED:
        raise GuardFailed(_("This appeal is %(state)s; it is not waiting for verification.") % {"state": appeal.get_state_display()},
                          code="not_awaiting_verification")


def _applicant(appeal: Appeal, by) -> None:
    if by is not None and by.enterprise_id != appeal.enterprise_id:
        raise PermissionDenied(_("Only the enterprise that filed this appeal can verify it."))


@entry_point
def verification_resend(*, appeal: Appeal, channel: str, by=None, language: str | None = None) -> VerificationChallenge:
    """A new code or link; the old one stops working. Cooldown and 24-hour caps apply."""
    if channel not in Channel.values:
        raise ValidationFailed(fields={"channel": [_("Choose sms or email.")]})
    _applicant(appeal, by)
    appeal = Appeal.objects.select_for_update().select_related("enterprise").get(pk=appeal.pk)
    _awaiting(appeal)
    if VerificationChallenge.objects.filter(appeal=appeal, channel=channel, state=ChallengeState.VERIFIED).exists():
        raise GuardFailed(_("This proof has already been given."), code="already_verified")
    _check_send_limits(appeal=appeal, channel=channel, now=timezone.now())
    return _issue(appeal=appeal, channel=channel, language=rendering.normalise_language(language or get_language()), by=by)


# --- secrets, minted when the message is sent ----------------------------------------------------


def _code_hash(challenge_id: int, code: str) -> str:
    return salted_hmac("appeals.verification.sms-code", f"{challenge_id}:{code}", algorithm="sha256").hexdigest()


def _nonce_hash(challenge_id: int, nonce: str) -> str:
    return salted_hmac("appeals.verification.email-nonce", f"{challenge_id}:{nonce}", algorithm="sha256").hexdigest()


def new_sms_code() -> str:
    digits = _conf("SMS_CODE_DIGITS")
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def email_link_path(token: str) -> str:
    """The landing page's path; the outbox puts it on the message's site_url (see _issue)."""
    return reverse("verification-email-landing", kwargs={"token": token})


def challenge_mint_secret(*, challenge_id: int) -> dict | None:
    """Fresh secret for the message carrying this challenge (caller holds the message lock).

    Stores only its hash; returns the template parameters with the secret, or None if
    the challenge is no longer waiting (verified, locked or superseded).
    """
    challenge = VerificationChallenge.objects.select_for_update().get(pk=challenge_id)
    if challenge.state != ChallengeState.PENDING:
        return None
    now = timezone.now()
    challenge.issued_at = now
    if challenge.channel == Channel.SMS:
        code = new_sms_code()
        challenge.secret_hash = _code_hash(challenge.pk, code)
        challenge.expires_at = now + timedelta(seconds=_conf("SMS_CODE_TTL_SECONDS"))
        challenge.attempts = 0
        challenge.save(update_fields=["secret_hash", "issued_at", "expires_at", "attempts"])
        return {"code": code, "minutes": _conf("SMS_CODE_TTL_SECONDS") // 60}
    nonce = secrets.token_urlsafe(16)
    challenge.secret_hash = _nonce_hash(challenge.pk, nonce)
    challenge.expires_at = now + timedelta(seconds=_conf("EMAIL_TOKEN_TTL_SECONDS"))
    challenge.save(update_fields=["secret_hash", "issued_at", "expires_at"])
    token = signing.dumps({"c": challenge.pk, "n": nonce}, salt=_conf("EMAIL_TOKEN_SALT"), compress=True)
    return {"link_path": email_link_path(token), "hours": _conf("EMAIL_TOKEN_TTL_SECONDS") // 3600}


# --- answering ----------------------------------------------------------------------------


def _both_verified(appeal: Appeal) -> bool:
    channels = set(VerificationChallenge.objects.filter(appeal=appeal, state=ChallengeState.VERIFIED).values_list("channel", flat=True))
    return channels >= {Channel.SMS, Channel.EMAIL}


def _accept_if_complete(appeal: Appeal) -> Appeal:
    return appeal_try_accept(appeal=appeal)


@dataclass
class CodeCheck:
    ok: bool
    attempts_left: int = 0
    error: Exception | None = None


def _check_code(challenge: VerificationChallenge, code: str, now) -> CodeCheck:
    max_attempts = _conf("SMS_MAX_WRONG_ATTEMPTS")
    if not challenge.secret_hash or challenge.expires_at is None:
        return CodeCheck(False, error=GuardFailed(_("The code has not been sent yet; wait a moment for the SMS."), code="code_not_sent"))
    if challenge.expires_at <= now:
        return CodeCheck(False, error=GuardFailed(_("This code has expired. Ask for a new one."), code="code_expired"))
    if constant_time_compare(_code_hash(challenge.pk, code), challenge.secret_hash):
        challenge.state, challenge.verified_at = ChallengeState.VERIFIED, now
        challenge.save(update_fields=["state", "verified_at"])
        _audit(challenge, "sms_verified")
        return CodeCheck(True)
    challenge.attempts += 1
    left = max(max_attempts - challenge.attempts, 0)
    if left == 0:
        challenge.state = ChallengeState.LOCKED
    challenge.save(update_fields=["attempts", "state"])
    _audit(challenge, "sms_wrong_code", attempts=challenge.attempts)
    if left == 0:
        return CodeCheck(False, error=GuardFailed(
            _("Too many wrong codes: this code no longer works. Ask for a new one."), code="code_locked"))
    message = ngettext("Wrong code. %(n)d attempt left.", "Wrong code. %(n)d attempts left.", left) % {"n": left}
    return CodeCheck(False, left, ValidationFailed(message, code="wrong_code", fields={"code": [message]}, attempts_left=left))


def verification_check_code(*, appeal: Appeal, code: str, by=None) -> Appeal:
    """Check the SMS code; the second passing proof moves the appeal to first review."""
    code = (code or "").strip()
    digits = _conf("SMS_CODE_DIGITS")
    if len(code) != digits or not code.isdigit():
        raise ValidationFailed(fields={"code": [_("Enter the %(n)d-digit code from the SMS.") % {"n": digits}]})
    _applicant(appeal, by)
    with transaction.atomic(durable=True):
        appeal = Appeal.objects.select_for_update().select_related("enterprise").get(pk=appeal.pk)
        _awaiting(appeal)
        challenge = (VerificationChallenge.objects.select_for_update().select_related("appeal")
                     .filter(appeal=appeal, channel=Channel.SMS).exclude(state=ChallengeState.SUPERSEDED).order_by("-created_at").first())
        if challenge is None:
            raise GuardFailed(_("No code has been sent for this appeal."), code="no_code")
        if challenge.state == ChallengeState.VERIFIED:
            return appeal
        if challenge.state == ChallengeState.LOCKED:
            raise GuardFailed(_("Too many wrong codes: this code no longer works. Ask for a new one."), code="code_locked")
        # The attempt counter is committed even when the answer is a refusal.
        result = _check_code(challenge, code, timezone.now())
        if result.ok:
            appeal = _accept_if_complete(appeal)
    if result.error is not None:
        raise result.error
    appeal.refresh_from_db()
    return appeal


class LinkStatus:
    VERIFIED = "verified"  # confirmed just now
    USED = "used"
    EXPIRED = "expired"
    FORGED = "forged"
    REPLACED = "replaced"  # a newer link was sent; this one no longer works
    CLOSED = "closed"  # the appeal is no longer waiting for verification


@dataclass
class LinkCheck:
    status: str
    appeal: Appeal | None = None
    challenge: VerificationChallenge | None = None


def _read_token(token: str) -> tuple[dict | None, bool]:
    """(payload, expired): payload None when the signature does not hold."""
    salt = _conf("EMAIL_TOKEN_SALT")
    try:
        return signing.loads(token, salt=salt, max_age=_conf("EMAIL_TOKEN_TTL_SECONDS")), False
    except signing.SignatureExpired:
        return signing.loads(token, salt=salt), True
    except signing.BadSignature:
        return None, False


def verification_inspect_link(*, token: str) -> LinkCheck:
    """What a link is, without using it (the landing page shows this before the click)."""
    payload, expired = _read_token(token)
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int) or not isinstance(payload.get("n"), str):
        return LinkCheck(LinkStatus.FORGED)
    challenge = (VerificationChallenge.objects.select_related("appeal", "appeal__enterprise")
                 .filter(pk=payload["c"], channel=Channel.EMAIL).first())
    if challenge is None or not challenge.secret_hash or not constant_time_compare(
            _nonce_hash(challenge.pk, payload["n"]), challenge.secret_hash):
        # Signed by us but not matching the stored nonce: an older link of a re-minted challenge.
        return LinkCheck(LinkStatus.FORGED if challenge is None else LinkStatus.REPLACED, challenge and challenge.appeal, challenge)
    appeal = challenge.appeal
    if challenge.state == ChallengeState.VERIFIED:
        return LinkCheck(LinkStatus.USED, appeal, challenge)
    if challenge.state == ChallengeState.SUPERSEDED:
        return LinkCheck(LinkStatus.REPLACED, appeal, challenge)
    if expired or (challenge.expires_at and challenge.expires_at <= timezone.now()):
        return LinkCheck(LinkStatus.EXPIRED, appeal, challenge)
    if appeal.state != AppealState.SUBMITTED:
        return LinkCheck(LinkStatus.CLOSED, appeal, challenge)
    return LinkCheck("valid", appeal, challenge)


def verification_confirm_email(*, token: str) -> LinkCheck:
    """Use an email link: single use, valid EMAIL_TOKEN_TTL_SECONDS, bound to one appeal."""
    with transaction.atomic(durable=True):
        check = verification_inspect_link(token=token)
        if check.status != "valid":
            return check
        appeal = Appeal.objects.select_for_update().get(pk=check.appeal.pk)
        challenge = VerificationChallenge.objects.select_for_update().select_related("appeal").get(pk=check.challenge.pk)
        if challenge.state != ChallengeState.PENDING or appeal.state != AppealState.SUBMITTED:
            return verification_inspect_link(token=token)  # lost a race with another click
        challenge.state, challenge.verified_at = ChallengeState.VERIFIED, timezone.now()
        challenge.save(update_fields=["state", "verified_at"])
        _audit(challenge, "email_verified")
        appeal = _accept_if_complete(appeal)
    appeal.refresh_from_db()
    return LinkCheck(LinkStatus.VERIFIED, appeal, challenge)


def verification_resend_from_link(*, token: str, language: str | None = None) -> VerificationChallenge:
    """'Send me a new link' from an expired or replaced link (it goes to the registered address)."""
    check = verification_inspect_link(token=token)
    if check.status not in (LinkStatus.EXPIRED, LinkStatus.REPLACED) or check.appeal is None:
        raise GuardFailed(_("A new link can be requested here only for an expired link."), code="link_not_renewable")
    return verification_resend(appeal=check.appeal, channel=Channel.EMAIL, by=None, language=language)


# --- the manual channel --------------------------------------------------------------------------


@entry_point
def verification_escalate(*, appeal: Appeal, by, reason: str) -> Appeal:
    """A reviewer sends a submitted case that cannot be verified to the hotline channel."""
    appeal = apply_transition(appeal=appeal, action=Action.ESCALATE, by=by, comment=reason)
    VerificationChallenge.objects.filter(appeal=appeal, state=ChallengeState.PENDING).update(state=ChallengeState.SUPERSEDED)
    return appeal


# --- the guard -------------------------------------------------------------------------------------


def both_proofs_guard(appeal, by, data) -> None:
    if not _conf("REQUIRED"):
        return
    if not _both_verified(appeal):
        raise GuardFailed(_("Waiting for both proofs: the SMS code and the email link."), code="verification_pending")



def applicant_verified_condition(appeal: Appeal) -> str | None:
    """Auto-resolution condition: both proofs (SMS code and email link) passed."""
    return None if _both_verified(appeal) else _("the SMS code and the email link are not both confirmed")

