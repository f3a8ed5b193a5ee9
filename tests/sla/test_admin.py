"""Managers edit SLA policies and calendar days in the admin; the saves go through the services."""

from datetime import date

import pytest
from django.test import Client

from appeals.models import AppealSla, AuditEvent, SlaPolicy, WorkCalendarDay
from appeals.shared.exceptions import PermissionDenied, ValidationFailed
from appeals.sla.calendar import is_working_day
from appeals.sla.services import sla_policy_update
from tests.sla.conftest import at, file_case

pytestmark = pytest.mark.django_db


def test_policies_are_seeded_from_settings_by_the_migration():
    # (Transactional tests flush this table; in this ordinary test the migration's rows are here.)
    assert {(p.severity, p.unit, p.amount) for p in SlaPolicy.objects.all()} == {
        ("minor", "clock_hours", 24), ("medium", "clock_hours", 48), ("severe", "working_days", 7),
    }


def test_manager_changes_a_policy_in_the_admin_and_new_clocks_use_it(manager, enterprise_admin, account):
    client = Client()
    client.force_login(manager)
    pk = SlaPolicy.objects.get(severity="medium").pk
    response = client.post(f"/admin/appeals/slapolicy/{pk}/change/", {"unit": "clock_hours", "amount": "36"})
    assert response.status_code == 302, response.content[:500]
    assert SlaPolicy.objects.get(severity="medium").amount == 36
    assert AuditEvent.objects.filter(action="sla.policy_update").exists()
    appeal = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2026, 3, 2, 10))
    assert AppealSla.objects.get(appeal=appeal).due_at == at(2026, 3, 3, 22)


def test_manager_adds_a_calendar_correction_in_the_admin(manager):
    client = Client()
    client.force_login(manager)
    response = client.post("/admin/appeals/workcalendarday/add/", {"date": "2027-03-08", "is_working": "", "note": "desk closed"})
    assert response.status_code == 302, response.content[:500]
    row = WorkCalendarDay.objects.get(date=date(2027, 3, 8))
    assert (row.is_working, row.source) == (False, "manual")
    assert not is_working_day(date(2027, 3, 8))


def test_policy_service_validates_and_requires_a_manager(manager, first_reviewer):
    with pytest.raises(ValidationFailed) as exc:
        sla_policy_update(by=manager, severity="minor", unit="weeks", amount=0)
    assert set(exc.value.fields) == {"unit", "amount"}
    with pytest.raises(PermissionDenied):
        sla_policy_update(by=first_reviewer, severity="minor", unit="clock_hours", amount=12)
    client = Client()
    client.force_login(first_reviewer)
    pk = SlaPolicy.objects.get(severity="minor").pk
    assert client.post(f"/admin/appeals/slapolicy/{pk}/change/", {"unit": "clock_hours", "amount": "1"}).status_code == 403
    assert SlaPolicy.objects.get(severity="minor").amount == 24


def test_notice_list_shows_each_notices_delivery_in_a_constant_number_of_queries(superuser, manager, enterprise_admin, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from appeals.models import Message, SlaNotification
    from appeals.sla import notices

    client = Client()
    client.force_login(superuser)

    def page_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/admin/appeals/slanotification/")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    case = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2026, 3, 2, 10))
    notice = SlaNotification.objects.create(appeal=case, stage="first_review", kind="breach", recipients=[manager.email])
    notices.sla_notice_queue_messages(notice=notice)
    one, html = page_queries()
    assert Message.objects.filter(topic=SlaNotification.TOPIC, topic_id=notice.pk).count() == 1
    assert "queued" in html or "sent" in html
    for n in range(4):
        other = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2026, 3, 3 + n, 10))
        extra = SlaNotification.objects.create(appeal=other, stage="first_review", kind="breach", recipients=[manager.email])
        notices.sla_notice_queue_messages(notice=extra)
    five, _html = page_queries()
    assert five == one, (one, five)
