"""Issue 10 items 9 and 10: phones as people type them, one canonical form, and every SMS
(the first verification code of a submission included) counting against the per-phone cap."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from appeals.core.services import appeals as svc
from appeals.models import Appeal, Channel, Message
from appeals.notifications.outbox import message_queue, send_sms
from appeals.shared.exceptions import RateLimited, ValidationFailed
from appeals.shared.validators import normalise_mobile
from appeals.verification import services as verification
from tests import builders, factories

pytestmark = pytest.mark.django_db

TYPED = ["+86 139 1234 5678", "86139 1234 5678", "8613912345678", "0086 139 1234 5678", "139-1234-5678",
         "(139) 1234-5678", "139 1234 5678", "+86-139-1234-5678", "１３９１２３４５６７８", " 13912345678 "]


@pytest.mark.parametrize("typed", TYPED)
def test_common_mainland_formats_become_one_canonical_form(typed):
    assert normalise_mobile(typed) == "13912345678"


@pytest.mark.parametrize("bad", ["", "1391234567", "12912345678", "+1 650 253 0000", "+86 10 1234 5678", "139 1234 5678 ext 9",
                                 "1" * 40, "phone"])
def test_a_bad_number_gets_an_error_naming_a_valid_one(bad):
    with pytest.raises(ValidationError) as err:
        normalise_mobile(bad)
    assert "139 1234 5678" in err.value.messages[0] and "+86" in err.value.messages[0]


def test_the_appeal_stores_the_canonical_form_and_the_monthly_quota_counts_it(enterprise_admin, account, settings):
    settings.APPEALS = {**settings.APPEALS, "MAX_APPEALS_PER_PHONE_PER_MONTH": 2}
    for typed in ("+86 136 5555 9999", "136-5555-9999"):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=typed)
        assert appeal.contact_phone == "13655559999"
        builders.attach_required_evidence(appeal, enterprise_admin)
        svc.appeal_submit(appeal=appeal, by=enterprise_admin)
    incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
    with pytest.raises(ValidationFailed) as exc:
        svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone="8613655559999")
    assert "contact_phone" in exc.value.fields


def test_the_api_takes_a_formatted_phone(enterprise_admin, incident):
    c = Client()
    c.force_login(enterprise_admin)
    resp = c.post("/api/v1/appeals/", {"incident": incident.pk, "statement": "Please.", "contact_phone": "+86 139 1234 5678"},
                  content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert Appeal.objects.get().contact_phone == "13912345678"
    resp = c.post("/api/v1/appeals/", {"incident": incident.pk, "statement": "Please.", "contact_phone": "+86 10 1234 5678"},
                  content_type="application/json")
    assert resp.status_code == 400
    assert "139 1234 5678" in resp.json()["fields"]["contact_phone"][0]


def test_enterprise_phones_are_stored_canonical(enterprise, manager):
    from appeals.core.services.enterprises import enterprise_update

    enterprise = enterprise_update(enterprise=enterprise, by=manager, legal_rep_mobile="+86 138-0013-8000",
                                   admin_phone="0086 137 0000 1111")
    enterprise.refresh_from_db()
    assert (enterprise.legal_rep_mobile, enterprise.admin_phone) == ("13800138000", "13700001111")


def test_sms_to_one_phone_in_any_format_count_together(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 2}
    send_sms(phone="+86 139 1234 5678", template="verification_code", params={})
    send_sms(phone="139-1234-5678", template="verification_code", params={})
    assert set(Message.objects.values_list("recipient", flat=True)) == {"13912345678"}
    with pytest.raises(RateLimited) as exc:
        send_sms(phone="8613912345678", template="verification_code", params={})
    assert exc.value.code == "phone_daily_cap" and exc.value.extra["retry_after"] > 0
    assert "13912345678" not in exc.value.message
    # Another phone has its own budget; email is not capped here.
    send_sms(phone="13912345679", template="verification_code", params={})
    message_queue(channel=Channel.EMAIL, recipient="a@example.com", template="verification_email")


def test_the_first_sms_of_a_submission_counts_against_the_cap(complete_draft, enterprise_admin, enterprise, settings):
    """The phone already received its daily allowance (codes for other appeals): submitting
    one more appeal is refused instead of texting it an eleventh time."""
    cap = settings.NOTIFICATIONS["SMS_DAILY_CAP_PER_PHONE"]
    for i in range(cap):
        send_sms(phone=enterprise.legal_rep_mobile, template="verification_code", params={}, idempotency_key=f"earlier:{i}")
    with pytest.raises(RateLimited) as exc:
        svc.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    assert exc.value.code == "phone_daily_cap"
    complete_draft.refresh_from_db()
    assert complete_draft.state == "draft"  # nothing half done: still a draft, no challenge, no message
    assert Message.objects.filter(recipient=enterprise.legal_rep_mobile).count() == cap
    assert not complete_draft.messages.exists()


def test_the_submission_sms_is_counted_for_the_resends(complete_draft, enterprise_admin, settings):
    from datetime import timedelta

    from django.utils import timezone

    from appeals.models import VerificationChallenge

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 2}
    appeal = svc.appeal_submit(appeal=complete_draft, by=enterprise_admin)  # SMS 1
    VerificationChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    verification.verification_resend(appeal=appeal, channel=Channel.SMS, by=enterprise_admin)  # SMS 2
    VerificationChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(RateLimited) as exc:
        verification.verification_resend(appeal=appeal, channel=Channel.SMS, by=enterprise_admin)
    assert exc.value.code == "phone_daily_cap"


def test_the_filing_form_takes_a_formatted_phone(enterprise, account):
    from appeals.core.models import MessagingAccount
    from appeals.core.web.forms import NewAppealForm

    data = {"account": account.pk, "kind": "short_ban", "reason": "unknown", "banned_at": "2026-11-20T10:00",
            "statement": "Please.", "contact_phone": "+86 139-1234-5678"}
    form = NewAppealForm(data, accounts=MessagingAccount.objects.filter(enterprise=enterprise), enterprise=enterprise)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_phone"] == "13912345678"
    bad = NewAppealForm({**data, "contact_phone": "010-1234-5678"}, accounts=MessagingAccount.objects.filter(enterprise=enterprise),
                        enterprise=enterprise)
    assert not bad.is_valid() and "139 1234 5678" in bad.errors["contact_phone"][0]
