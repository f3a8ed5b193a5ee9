"""Due times across the official 2025 and 2026 holiday schedules, pauses and re-tiering."""

from datetime import timedelta

import pytest

from appeals.core.services import appeals as svc
from appeals.core.services.enterprises import incident_set_severity
from appeals.models import AppealSla, AuditEvent, WorkCalendarDay
from appeals.sla.calendar import (
    add_working_seconds,
    is_working_day,
    work_calendar_set_day,
    working_seconds_between,
)
from appeals.sla.clock import clock_of
from tests.sla.conftest import act, at, file_case

pytestmark = pytest.mark.django_db
D = 86400
SEVEN_WD = 7 * D


# --- the calendar: dates from the State Council notices (国办发明电) ----------------------------

OFF = [
    # 2025 Spring Festival Jan 28 - Feb 4; National Day + Mid-Autumn Oct 1 - 8
    *[f"2025-01-{d}" for d in (28, 29, 30, 31)], "2025-02-03", "2025-02-04",
    *[f"2025-10-0{d}" for d in range(1, 9)],
    # 2026 New Year Jan 1 - 3; Spring Festival Feb 15 - 23; National Day Oct 1 - 7
    "2026-01-01", "2026-01-02", *[f"2026-02-{d}" for d in range(15, 24)], *[f"2026-10-0{d}" for d in range(1, 8)],
    "2026-09-25",  # Mid-Autumn (Friday)
]
MAKE_UP_WORKING = [
    "2025-01-26",  # Sunday
    "2025-02-08",  # Saturday
    "2025-04-27",  # Sunday (Labour Day)
    "2025-09-28",  # Sunday
    "2025-10-11",  # Saturday
    "2026-01-04",  # Sunday
    "2026-02-14",  # Saturday
    "2026-02-28",  # Saturday
    "2026-05-09",  # Saturday
    "2026-09-20",  # Sunday
    "2026-10-10",  # Saturday
]


def _d(s):
    from datetime import date

    return date.fromisoformat(s)


@pytest.mark.parametrize("day", OFF)
def test_official_holidays_are_days_off(china_calendar, day):
    assert not is_working_day(_d(day))


@pytest.mark.parametrize("day", MAKE_UP_WORKING)
def test_make_up_weekend_days_are_working_days(china_calendar, day):
    assert _d(day).weekday() >= 5
    assert is_working_day(_d(day))


def test_ordinary_weekend_and_weekday(china_calendar):
    assert not is_working_day(_d("2025-02-09"))  # Sunday after the make-up Saturday
    assert is_working_day(_d("2025-02-05"))


def test_without_the_seed_the_weekday_rule_applies(db):
    WorkCalendarDay.objects.all().delete()
    assert is_working_day(_d("2025-01-28"))  # a holiday, but nobody told the table
    assert not is_working_day(_d("2025-01-26"))


# --- working-time arithmetic: 7 working days across each holiday week -------------------------


@pytest.mark.parametrize(
    "start, due",
    [
        # Fri 10:00; Sun 26 + Mon 27 work; holiday; Feb 5,6,7, Sat 8 work; Sun 9 off -> Mon 10 10:00
        (at(2025, 1, 24, 10), at(2025, 2, 10, 10)),
        # Fri 09:00; Sun 28, 29, 30 work; Oct 1-8 off; 9, 10, Sat 11 work; Sun 12 off -> Mon 13 09:00
        (at(2025, 9, 26, 9), at(2025, 10, 13, 9)),
        # Thu 14:00; Fri 13, Sat 14 work; Feb 15-23 off; 24-27 work -> Sat Feb 28 (make-up) 14:00
        (at(2026, 2, 12, 14), at(2026, 2, 28, 14)),
        # Wed 08:00; Oct 1-7 off; 8, 9, Sat 10 work; 12, 13, 14 -> Thu 15 08:00
        (at(2026, 9, 30, 8), at(2026, 10, 15, 8)),
        # Fri 12:00; Sun 20 works, 21-24; Fri 25 Mid-Autumn, weekend; Mon 28 -> Tue 29 12:00
        (at(2026, 9, 18, 12), at(2026, 9, 29, 12)),
        # Started on a holiday: counting starts 00:00 Wed Feb 5: 5, 6, 7, Sat 8, 10, 11, 12 -> Wed 12 24:00
        (at(2025, 1, 30, 16), at(2025, 2, 13, 0)),
    ],
)
def test_seven_working_days(china_calendar, start, due):
    assert add_working_seconds(start, SEVEN_WD) == due
    assert working_seconds_between(start, due) == SEVEN_WD


def test_manager_correction_changes_the_arithmetic(china_calendar, manager):
    start = at(2025, 9, 26, 9)
    work_calendar_set_day(by=manager, day=_d("2025-10-13"), is_working=False, note="local typhoon closure")
    assert add_working_seconds(start, SEVEN_WD) == at(2025, 10, 14, 9)
    assert AuditEvent.objects.filter(action="calendar.set_day", target_id="2025-10-13").exists()
    row = WorkCalendarDay.objects.get(date=_d("2025-10-13"))
    assert row.source == "manual"


def test_seed_keeps_manual_corrections(china_calendar, manager):
    from appeals.sla.calendar import work_calendar_seed

    work_calendar_set_day(by=manager, day=_d("2025-10-11"), is_working=False, note="no make-up day here")
    work_calendar_seed(years=[2025])
    assert not is_working_day(_d("2025-10-11"))


# --- clocks driven by the workflow --------------------------------------------------------


def test_medium_case_is_due_48_hours_after_entering_first_review(enterprise_admin, account):
    appeal = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2025, 1, 27, 9, 30))
    sla = AppealSla.objects.get(appeal=appeal)
    assert (sla.started_at, sla.due_at) == (at(2025, 1, 27, 9, 30), at(2025, 1, 29, 9, 30))  # holidays do not matter
    assert sla.warn_at == at(2025, 1, 27, 9, 30) + timedelta(hours=48 * 0.8)
    assert (sla.unit, sla.amount) == ("clock_hours", 48)


def test_severe_case_over_national_day_2025(china_calendar, enterprise_admin, account):
    appeal = file_case(admin=enterprise_admin, account=account, severity="severe", when=at(2025, 9, 26, 9))
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.due_at == at(2025, 10, 13, 9)
    # 80% of 7 working days = 5.6 working days: Fri 15h, 28, 29, 30 (87h), Oct 9 (111h), then 23.4 h of Oct 10
    assert sla.warn_at == at(2025, 10, 10, 23, 24)


def test_pause_moves_an_hour_tier_by_the_paused_time(enterprise_admin, account, first_reviewer):
    appeal = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2026, 3, 2, 10))
    act(at(2026, 3, 2, 11), svc.appeal_claim, appeal=appeal, by=first_reviewer)
    act(at(2026, 3, 2, 12), svc.appeal_first_review, appeal=appeal, by=first_reviewer, decision="request_info", comment="营业执照")
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.is_paused and sla.paused_at == at(2026, 3, 2, 12)
    assert sla.spent_clock_seconds == 2 * 3600
    assert clock_of(sla, now=at(2026, 3, 2, 12)).remaining_seconds == 46 * 3600
    act(at(2026, 3, 4, 12), svc.appeal_resubmit, appeal=appeal, by=enterprise_admin)  # paused 48 h
    sla.refresh_from_db()
    assert not sla.is_paused
    assert sla.paused_seconds == 48 * 3600
    assert sla.due_at == at(2026, 3, 4, 10) + timedelta(hours=48)  # 48 h later than without the pause
    assert sla.first_claimed_at == at(2026, 3, 2, 11) and sla.first_decided_at is None


def test_pause_over_spring_festival_costs_a_severe_case_nothing(china_calendar, enterprise_admin, account, first_reviewer):
    # Enters review Tue 2026-02-10 10:00: 7 working days would end Thu 2026-02-26 10:00
    appeal = file_case(admin=enterprise_admin, account=account, severity="severe", when=at(2026, 2, 10, 10))
    assert AppealSla.objects.get(appeal=appeal).due_at == at(2026, 2, 26, 10)
    act(at(2026, 2, 10, 11), svc.appeal_claim, appeal=appeal, by=first_reviewer)
    # Paused Fri Feb 13 10:00 (3 working days used) until Tue Feb 24 10:00:
    # working time paused = Fri 14h + Sat 14 (make-up) 24h + Tue 24 10h = 48 h
    act(at(2026, 2, 13, 10), svc.appeal_first_review, appeal=appeal, by=first_reviewer, decision="request_info", comment="日志")
    act(at(2026, 2, 24, 10), svc.appeal_resubmit, appeal=appeal, by=enterprise_admin)
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.spent_working_seconds == 3 * D
    assert sla.paused_seconds == 11 * D
    # 4 working days left from Tue 24 10:00: 24h(to Wed 10:00) ... Sat 28 is a make-up working day
    assert sla.due_at == at(2026, 2, 28, 10)


def test_reviewer_raising_the_severity_re_tiers_the_clock(china_calendar, enterprise_admin, account, first_reviewer):
    appeal = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2025, 9, 26, 9))
    assert AppealSla.objects.get(appeal=appeal).due_at == at(2025, 9, 28, 9)
    act(at(2025, 9, 26, 15), incident_set_severity, incident=appeal.incident, severity="severe", by=first_reviewer)
    sla = AppealSla.objects.get(appeal=appeal)
    assert (sla.severity, sla.unit, sla.amount) == ("severe", "working_days", 7)
    assert sla.due_at == at(2025, 10, 13, 9)  # counted from the start of the review, not from the change
    assert AuditEvent.objects.filter(action="sla.retier").count() == 1


def test_re_tier_after_a_pause_uses_working_time_spent(china_calendar, enterprise_admin, account, first_reviewer):
    appeal = file_case(admin=enterprise_admin, account=account, severity="medium", when=at(2025, 1, 24, 10))
    act(at(2025, 1, 24, 11), svc.appeal_claim, appeal=appeal, by=first_reviewer)
    act(at(2025, 1, 25, 10), svc.appeal_first_review, appeal=appeal, by=first_reviewer, decision="request_info", comment="x")
    sla = AppealSla.objects.get(appeal=appeal)
    assert (sla.spent_clock_seconds, sla.spent_working_seconds) == (24 * 3600, 14 * 3600)  # Saturday is off
    act(at(2025, 1, 26, 10), svc.appeal_resubmit, appeal=appeal, by=enterprise_admin)
    act(at(2025, 1, 26, 12), incident_set_severity, incident=appeal.incident, severity="severe", by=first_reviewer)
    sla.refresh_from_db()
    # 14 h used; 154 h of working time from Sun Jan 26 10:00 (make-up day):
    # 14h + Mon 27 24h = 38h; Feb 5,6,7 = 110h; Sat Feb 8 = 134h; Mon 10 = 158h -> need 154: Mon Feb 10 20:00
    assert sla.due_at == at(2025, 2, 10, 20)


def test_decision_stops_the_clock_and_records_compliance(enterprise_admin, account, first_reviewer, second_reviewer):
    appeal = file_case(admin=enterprise_admin, account=account, severity="minor", when=at(2026, 3, 2, 10))
    act(at(2026, 3, 2, 11), svc.appeal_claim, appeal=appeal, by=first_reviewer)
    act(at(2026, 3, 2, 12), svc.appeal_first_review, appeal=appeal, by=first_reviewer, decision="approve")
    act(at(2026, 3, 2, 13), svc.appeal_claim, appeal=appeal, by=second_reviewer)
    act(at(2026, 3, 3, 11), svc.appeal_second_review, appeal=appeal, by=second_reviewer, decision="approve", outcome_code="restored")  # 25 h
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.closed_at == at(2026, 3, 3, 11) and sla.outcome == "approved"
    assert sla.met is False
    assert sla.running_since is None and sla.spent_clock_seconds == 25 * 3600


def test_withdrawn_before_review_has_no_compliance(enterprise_admin, complete_draft):
    appeal = svc.appeal_submit(appeal=complete_draft, by=enterprise_admin)
    assert appeal.state == "submitted"  # still waiting for the two proofs
    svc.appeal_withdraw(appeal=appeal, by=enterprise_admin)
    sla = AppealSla.objects.get(appeal=appeal)
    assert sla.started_at is None and sla.met is None and sla.outcome == "withdrawn"
