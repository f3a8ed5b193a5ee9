"""The two proofs: SMS code and email link, their limits, the ACCEPT guard and the hotline channel."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.db import connection
from django.utils import timezone

from appeals.models import (
    AppealEvent,
    AppealState,
    AuditEvent,
    ChallengeState,
    Channel,
    Message,
    MessageState,
    VerificationChallenge,
)
from appeals.shared.exceptions import GuardFailed, InvalidTransition, PermissionDenied, RateLimited, ValidationFailed
from appeals.verification import services as svc
from tests.builders import attach_required_evidence

from .conftest import deliver_queued, last_code, last_token

pytestmark = pytest.mark.django_db
S = AppealState


def _sms(appeal):
    return VerificationChallenge.objects.filter(appeal=appeal, channel=Channel.SMS).order_by("-created_at").first()


def _age(challenge, seconds):
    VerificationChallenge.objects.filter(pk=challenge.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_submit_starts_both_proofs_and_holds_the_case(complete_draft, enterprise_admin, enterprise):
    from appeals.core.services.appeals import appeal_submit

    draft_appeal = complete_draft

    appeal = appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    assert appeal.state == S.SUBMITTED
    challenges = {c.channel: c for c in VerificationChallenge.objects.filter(appeal=appeal)}
    assert challenges[Channel.SMS].destination == enterprise.legal_rep_mobile
    assert challenges[Channel.EMAIL].destination == enterprise.admin_email
    messages = Message.objects.filter(appeal=appeal)
    assert sorted(messages.values_list("template", "state")) == [("verification_code", "queued"), ("verification_email", "queued")]
    # Nothing secret exists before the message is sent.
    assert all(not c.secret_hash for c in challenges.values())


def test_code_is_six_csprng_digits_stored_only_as_hash(pending_appeal, sms_outbox, enterprise):
    code = last_code(enterprise.legal_rep_mobile)
    assert len(code) == 6 and code.isdigit()
    challenge = _sms(pending_appeal)
    assert challenge.secret_hash and code not in challenge.secret_hash
    assert challenge.expires_at - challenge.issued_at == timedelta(minutes=10)
    # The code appears in no column of any row we wrote.
    with connection.cursor() as cursor:
        for table in ("appeals_verificationchallenge", "appeals_message", "appeals_auditevent", "appeals_appealevent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert all(code not in str(row) for row in cursor.fetchall()), table
    assert sms_outbox[-1].text.count(code) == 1


def test_both_proofs_move_the_case_to_first_review_when_the_second_passes(pending_appeal, enterprise_admin):
    appeal = svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin)
    assert appeal.state == S.SUBMITTED  # one proof is not enough
    check = svc.verification_confirm_email(token=last_token())
    assert check.status == "verified"
    assert check.appeal.state == S.FIRST_REVIEW
    assert AppealEvent.objects.filter(appeal=pending_appeal, action="accept").count() == 1
    assert set(AuditEvent.objects.filter(target_id=pending_appeal.reference, action__startswith="verification.")
               .values_list("action", flat=True)) >= {"verification.issue", "verification.sms_verified", "verification.email_verified"}


def test_email_first_then_code_also_accepts(pending_appeal, enterprise_admin):
    assert svc.verification_confirm_email(token=last_token()).appeal.state == S.SUBMITTED
    assert svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin).state == S.FIRST_REVIEW


def test_five_wrong_codes_kill_the_code_even_the_right_one(pending_appeal, enterprise_admin):
    code = last_code()
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationFailed) as exc:
            svc.verification_check_code(appeal=pending_appeal, code=_wrong(code), by=enterprise_admin)
        assert exc.value.code == "wrong_code" and exc.value.extra["attempts_left"] == left
    with pytest.raises(GuardFailed) as exc:
        svc.verification_check_code(appeal=pending_appeal, code=_wrong(code), by=enterprise_admin)
    assert exc.value.code == "code_locked"
    assert _sms(pending_appeal).state == ChallengeState.LOCKED and _sms(pending_appeal).attempts == 5
    with pytest.raises(GuardFailed) as exc:
        svc.verification_check_code(appeal=pending_appeal, code=code, by=enterprise_admin)
    assert exc.value.code == "code_locked"


def test_malformed_code_is_a_field_error_and_costs_no_attempt(pending_appeal, enterprise_admin):
    for bad in ("", "12345", "1234567", "12a456"):
        with pytest.raises(ValidationFailed) as exc:
            svc.verification_check_code(appeal=pending_appeal, code=bad, by=enterprise_admin)
        assert "code" in exc.value.fields
    assert _sms(pending_appeal).attempts == 0


def test_expired_code_is_refused(pending_appeal, enterprise_admin):
    VerificationChallenge.objects.filter(pk=_sms(pending_appeal).pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(GuardFailed) as exc:
        svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin)
    assert exc.value.code == "code_expired"


def test_code_is_single_use_and_bound_to_its_appeal(pending_appeal, enterprise_admin, enterprise):
    from appeals.core.services.appeals import appeal_create, appeal_submit
    from tests import factories

    code = last_code()
    other = appeal_create(by=enterprise_admin, incident=factories.IncidentFactory(account__enterprise=enterprise),
                          statement="second", contact_phone="13900000001")
    attach_required_evidence(other, enterprise_admin)
    other = appeal_submit(appeal=other, by=enterprise_admin)
    deliver_queued()
    other_code = last_code()
    if other_code != code:
        with pytest.raises(ValidationFailed):
            svc.verification_check_code(appeal=other, code=code, by=enterprise_admin)
    svc.verification_check_code(appeal=pending_appeal, code=code, by=enterprise_admin)
    # Using it again changes nothing and counts nothing.
    assert svc.verification_check_code(appeal=pending_appeal, code=code, by=enterprise_admin).state == S.SUBMITTED
    assert VerificationChallenge.objects.filter(appeal=pending_appeal, state=ChallengeState.VERIFIED).count() == 1


def test_code_not_yet_sent_is_explained(complete_draft, enterprise_admin):
    from appeals.core.services.appeals import appeal_submit

    appeal = appeal_submit(appeal=complete_draft, by=enterprise_admin)
    with pytest.raises(GuardFailed) as exc:
        svc.verification_check_code(appeal=appeal, code="123456", by=enterprise_admin)
    assert exc.value.code == "code_not_sent"


def test_another_enterprise_and_the_desk_cannot_answer(pending_appeal, other_admin, first_reviewer):
    for user in (other_admin, first_reviewer):
        with pytest.raises(PermissionDenied):
            svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=user)
        with pytest.raises(PermissionDenied):
            svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=user)


# --- resend: cooldown and caps --------------------------------------------------------------------


def test_resend_cooldown_answers_with_seconds_to_wait(pending_appeal, enterprise_admin):
    with pytest.raises(RateLimited) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    assert exc.value.code == "resend_cooldown" and 55 <= exc.value.extra["retry_after"] <= 60
    _age(_sms(pending_appeal), 45)
    with pytest.raises(RateLimited) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    assert 14 <= exc.value.extra["retry_after"] <= 15
    _age(_sms(pending_appeal), 61)
    old = _sms(pending_appeal)
    new = svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    old.refresh_from_db()
    assert old.state == ChallengeState.SUPERSEDED and new.state == ChallengeState.PENDING


def test_resend_makes_the_old_code_useless(pending_appeal, enterprise_admin):
    old_code = last_code()
    _age(_sms(pending_appeal), 61)
    svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    deliver_queued()
    new_code = last_code()
    if new_code != old_code:
        with pytest.raises(ValidationFailed):
            svc.verification_check_code(appeal=pending_appeal, code=old_code, by=enterprise_admin)
    svc.verification_check_code(appeal=pending_appeal, code=new_code, by=enterprise_admin)
    assert _sms(pending_appeal).state == ChallengeState.VERIFIED


def test_a_locked_code_can_be_replaced_after_the_cooldown(pending_appeal, enterprise_admin):
    code = last_code()
    for _i in range(5):
        with pytest.raises((ValidationFailed, GuardFailed)):
            svc.verification_check_code(appeal=pending_appeal, code=_wrong(code), by=enterprise_admin)
    _age(_sms(pending_appeal), 61)
    svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    deliver_queued()
    svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin)
    assert _sms(pending_appeal).state == ChallengeState.VERIFIED


def test_daily_cap_per_appeal(pending_appeal, enterprise_admin, settings):
    cap = settings.VERIFICATION["DAILY_CAP_PER_APPEAL"]
    for _i in range(cap - 1):
        _age(_sms(pending_appeal), 61)
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    _age(_sms(pending_appeal), 61)
    with pytest.raises(RateLimited) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    assert exc.value.code == "appeal_daily_cap"
    assert 0 < exc.value.extra["retry_after"] <= 24 * 3600
    # A day later the oldest send leaves the window.
    VerificationChallenge.objects.filter(appeal=pending_appeal).update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)


def test_daily_cap_per_phone_across_appeals(pending_appeal, enterprise_admin, settings, enterprise):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 2}
    _age(_sms(pending_appeal), 61)
    svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)  # 2nd SMS to this phone
    _age(_sms(pending_appeal), 61)
    with pytest.raises(RateLimited) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    assert exc.value.code == "phone_daily_cap"
    assert "****" in exc.value.message and enterprise.legal_rep_mobile not in exc.value.message
    # The email channel has its own budget.
    VerificationChallenge.objects.filter(appeal=pending_appeal, channel=Channel.EMAIL).update(created_at=timezone.now() - timedelta(seconds=61))
    svc.verification_resend(appeal=pending_appeal, channel=Channel.EMAIL, by=enterprise_admin)


def test_resend_refused_when_not_waiting(pending_appeal, enterprise_admin):
    svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin)
    _age(_sms(pending_appeal), 61)
    with pytest.raises(GuardFailed) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.SMS, by=enterprise_admin)
    assert exc.value.code == "already_verified"
    svc.verification_confirm_email(token=last_token())
    with pytest.raises(GuardFailed) as exc:
        svc.verification_resend(appeal=pending_appeal, channel=Channel.EMAIL, by=enterprise_admin)
    assert exc.value.code == "not_awaiting_verification"
    with pytest.raises(ValidationFailed):
        svc.verification_resend(appeal=pending_appeal, channel="fax", by=enterprise_admin)


# --- the email link ----------------------------------------------------------------------------------


def test_link_is_single_use(pending_appeal):
    token = last_token()
    assert svc.verification_inspect_link(token=token).status == "valid"
    assert svc.verification_confirm_email(token=token).status == "verified"
    assert svc.verification_confirm_email(token=token).status == "used"


def test_link_expires_after_24_hours(pending_appeal, settings):
    token = last_token()
    challenge = VerificationChallenge.objects.get(appeal=pending_appeal, channel=Channel.EMAIL)
    assert challenge.expires_at - challenge.issued_at == timedelta(hours=24)
    # The signature's own timestamp is checked too: a token signed 24 h + 1 s ago.
    payload = signing.loads(token, salt=settings.VERIFICATION["EMAIL_TOKEN_SALT"])
    signer = signing.TimestampSigner(salt=settings.VERIFICATION["EMAIL_TOKEN_SALT"])
    old = signer.sign_object(payload, compress=True)
    aged = signing.TimestampSigner(salt=settings.VERIFICATION["EMAIL_TOKEN_SALT"])
    aged.timestamp = lambda: signing.b62_encode(int(timezone.now().timestamp()) - 24 * 3600 - 1)
    expired_token = aged.sign_object(payload, compress=True)
    assert svc.verification_inspect_link(token=old).status == "valid"
    assert svc.verification_confirm_email(token=expired_token).status == "expired"
    # And the stored expiry alone also ends it.
    VerificationChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert svc.verification_confirm_email(token=token).status == "expired"
    assert VerificationChallenge.objects.get(pk=challenge.pk).state == ChallengeState.PENDING


def test_forged_links(pending_appeal, settings):
    token = last_token()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert svc.verification_confirm_email(token=tampered).status == "forged"
    assert svc.verification_confirm_email(token="garbage").status == "forged"
    # Signed with another salt (e.g. another signing use of the same key).
    payload = signing.loads(token, salt=settings.VERIFICATION["EMAIL_TOKEN_SALT"])
    assert svc.verification_confirm_email(token=signing.dumps(payload, salt="something-else")).status == "forged"
    # Well signed but naming a challenge that does not exist.
    assert svc.verification_confirm_email(
        token=signing.dumps({"c": 10**9, "n": "x"}, salt=settings.VERIFICATION["EMAIL_TOKEN_SALT"])).status == "forged"
    assert VerificationChallenge.objects.get(appeal=pending_appeal, channel=Channel.EMAIL).state == ChallengeState.PENDING


def test_new_link_replaces_the_old_and_can_be_requested_from_an_expired_one(pending_appeal):
    token = last_token()
    challenge = VerificationChallenge.objects.get(appeal=pending_appeal, channel=Channel.EMAIL)
    VerificationChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1),
                                                                 created_at=timezone.now() - timedelta(seconds=61))
    mail.outbox.clear()
    svc.verification_resend_from_link(token=token)
    deliver_queued()
    new_token = last_token()
    assert new_token != token
    assert svc.verification_inspect_link(token=token).status == "replaced"
    assert svc.verification_confirm_email(token=new_token).status == "verified"


# --- the guard and the manual channel ------------------------------------------------------------------


def test_accept_guard_refuses_without_both_proofs(pending_appeal, enterprise_admin):
    from appeals.core.services.appeals import appeal_try_accept
    from appeals.core.workflow import Action, apply_transition

    assert appeal_try_accept(appeal=pending_appeal).state == S.SUBMITTED
    with pytest.raises(GuardFailed) as exc:
        apply_transition(appeal=pending_appeal, action=Action.ACCEPT, by=None)
    assert exc.value.code == "verification_pending"
    svc.verification_check_code(appeal=pending_appeal, code=last_code(), by=enterprise_admin)
    with pytest.raises(GuardFailed):
        apply_transition(appeal=pending_appeal, action=Action.ACCEPT, by=None)


def test_reviewer_moves_unverifiable_case_to_hotline_with_reason(pending_appeal, first_reviewer, enterprise_admin):
    with pytest.raises(ValidationFailed) as exc:
        svc.verification_escalate(appeal=pending_appeal, by=first_reviewer, reason="  ")
    assert "comment" in exc.value.fields
    appeal = svc.verification_escalate(appeal=pending_appeal, by=first_reviewer, reason="Legal rep's phone is out of service")
    assert appeal.state == S.ESCALATED
    event = AppealEvent.objects.get(appeal=appeal, action="escalate")
    assert (event.from_state, event.comment) == ("submitted", "Legal rep's phone is out of service")
    # The codes stop working; the admin is told by email with the reason and the hotline.
    with pytest.raises(GuardFailed):
        svc.verification_check_code(appeal=appeal, code=last_code(), by=enterprise_admin)
    deliver_queued()
    assert "Legal rep's phone is out of service" in mail.outbox[-1].body
    assert "400-800-1234" in mail.outbox[-1].body


def test_applicant_cannot_escalate(pending_appeal, enterprise_admin, manager):
    from appeals.shared.exceptions import PermissionDenied as Denied

    for user in (enterprise_admin, manager):
        with pytest.raises(Denied):
            svc.verification_escalate(appeal=pending_appeal, by=user, reason="x")


def test_escalate_is_only_for_submitted_cases(submitted_appeal, first_reviewer):
    # First review has its own escalate (claim required); a decided case has none.
    with pytest.raises(Exception) as exc:
        svc.verification_escalate(appeal=submitted_appeal, by=first_reviewer, reason="x")
    assert isinstance(exc.value, (PermissionDenied, InvalidTransition))


def test_superseded_message_is_not_sent(complete_draft, enterprise_admin, sms_outbox):
    from appeals.core.services.appeals import appeal_submit

    draft_appeal = complete_draft

    appeal = appeal_submit(appeal=draft_appeal, by=enterprise_admin)  # not delivered yet
    first = Message.objects.get(appeal=appeal, channel=Channel.SMS)
    _age(_sms(appeal), 61)
    svc.verification_resend(appeal=appeal, channel=Channel.SMS, by=enterprise_admin)
    deliver_queued()
    first.refresh_from_db()
    assert first.state == MessageState.FAILED and "replaced" in first.reason
    assert len(sms_outbox) == 1 and sms_outbox[0].out_id != first.idempotency_key
    svc.verification_check_code(appeal=appeal, code=last_code(), by=enterprise_admin)
