"""Filing rules: references, one open appeal per incident, the monthly phone limit, validation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.core.selectors import prior_incidents
from appeals.core.services import appeals as svc
from appeals.models import Appeal
from appeals.shared.exceptions import GuardFailed, ValidationFailed
from tests import builders, factories

pytestmark = pytest.mark.django_db


def test_reference_is_readable_and_sequential(incident, enterprise_admin, account):
    a = svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone="13800000001")
    other = factories.IncidentFactory(account=account, created_by=enterprise_admin)
    b = svc.appeal_create(by=enterprise_admin, incident=other, statement="s", contact_phone="13800000001")
    year = timezone.localtime().year
    assert a.reference.startswith(f"AP-{year}-") and len(a.reference) == len("AP-2026-000123")
    assert int(b.reference[-6:]) == int(a.reference[-6:]) + 1


def test_one_open_appeal_per_incident(draft_appeal, enterprise_admin, incident):
    with pytest.raises(ValidationFailed) as exc:
        svc.appeal_create(by=enterprise_admin, incident=incident, statement="again", contact_phone="13800000002")
    assert "incident" in exc.value.fields
    svc.appeal_withdraw(appeal=draft_appeal, by=enterprise_admin)
    again = svc.appeal_create(by=enterprise_admin, incident=incident, statement="again", contact_phone="13800000002")
    assert again.state == "draft"


def test_database_refuses_second_open_appeal_even_past_the_service(draft_appeal):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(
            reference="AP-2026-999999", enterprise=draft_appeal.enterprise, incident=draft_appeal.incident,
            statement="x", contact_phone="13800000003", filed_by=draft_appeal.filed_by,
        )


def test_sixth_appeal_per_phone_per_month_is_refused(enterprise_admin, account):
    phone = "13655556666"
    for _ in range(5):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone)
        builders.attach_required_evidence(appeal, enterprise_admin)
        svc.appeal_submit(appeal=appeal, by=enterprise_admin)
    incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
    with pytest.raises(ValidationFailed) as exc:
        svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone)
    assert "contact_phone" in exc.value.fields and "5" in exc.value.fields["contact_phone"][0]


def test_phone_limit_is_also_a_submit_guard(enterprise_admin, account):
    phone = "13655557777"
    drafts = []
    for _ in range(6):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        drafts.append(svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone))
        builders.attach_required_evidence(drafts[-1], enterprise_admin)
    for appeal in drafts[:5]:
        svc.appeal_submit(appeal=appeal, by=enterprise_admin)
    with pytest.raises(GuardFailed) as exc:
        svc.appeal_submit(appeal=drafts[5], by=enterprise_admin)
    assert exc.value.code == "phone_monthly_limit"


def test_last_months_appeals_do_not_count(enterprise_admin, account):
    phone = "13655558888"
    for _ in range(5):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone)
        builders.attach_required_evidence(appeal, enterprise_admin)
        svc.appeal_submit(appeal=appeal, by=enterprise_admin)
    Appeal.objects.filter(contact_phone=phone).update(submitted_at=timezone.now() - timedelta(days=40))
    incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
    assert svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone)


@pytest.mark.parametrize("phone", ["", "12345678901", "1381234567", "23812345678", "138123456789", "138-1234-567"])
def test_contact_phone_validation(enterprise_admin, incident, phone):
    with pytest.raises(ValidationFailed) as exc:
        svc.appeal_create(by=enterprise_admin, incident=incident, statement="s", contact_phone=phone)
    assert "contact_phone" in exc.value.fields


def test_prior_incidents_of_the_last_six_months(account, enterprise_admin):
    now = timezone.now()
    current = factories.IncidentFactory(account=account, banned_at=now, created_by=enterprise_admin)
    recent = factories.IncidentFactory(account=account, banned_at=now - timedelta(days=30), created_by=enterprise_admin)
    factories.IncidentFactory(account=account, banned_at=now - timedelta(days=200), created_by=enterprise_admin)
    factories.IncidentFactory(banned_at=now - timedelta(days=10))  # another account
    assert list(prior_incidents(incident=current)) == [recent]
