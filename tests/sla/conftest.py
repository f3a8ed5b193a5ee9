"""SLA fixtures: the seeded China calendar and cases filed at a controlled moment."""

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals.core.services import appeals as appeal_services
from appeals.core.services import appeals as svc
from appeals.sla.calendar import work_calendar_seed
from tests import builders, factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
_phones = itertools.count(1)


def at(*args) -> datetime:
    """An aware Asia/Shanghai datetime: at(2025, 1, 24, 10) is 2025-01-24 10:00 CST."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def china_calendar(db):
    # Transactional tests flush tables, so do not rely on the migration's seed here.
    work_calendar_seed(years=[2025, 2026])


def file_case(*, admin, account, severity: str, when: datetime, kind: str = "short_ban"):
    """File and submit an appeal at `when` (evidence complete, both proofs given at that same
    moment): it enters first review then."""
    with time_machine.travel(when, tick=False):
        incident = factories.IncidentFactory(account=account, created_by=admin, severity=severity, kind=kind, banned_at=when)
        appeal = appeal_services.appeal_create(
            by=admin, incident=incident, statement="请求解封", contact_phone=f"135{next(_phones):08d}"
        )
        return builders.submitted_appeal(appeal, admin)


def act(when: datetime, fn, **kwargs):
    with time_machine.travel(when, tick=False):
        return fn(**kwargs)


@pytest.fixture
def desk(db, china_calendar, enterprise, other_enterprise, enterprise_admin, other_admin, first_reviewer, second_reviewer):
    """Six cases (all times Asia/Shanghai); the figures below are worked out from these by hand.

    1 A minor   in 03-02 10:00, R1 claims 12:00 (2 h), recommends 13:00, R2 approves 16:00 (6 h, met)
    2 A medium  in 03-03 09:00, R1 claims 13:00 (4 h), recommends reject 03-04 09:00, R2 rejects 03-05 11:00 (50 h, breached)
    3 A severe  in 03-04 10:00 (kind entity_ban), R2 claims 18:00 (8 h); open, due 03-13 10:00, warned from 03-12 00:24
    4 B medium  in 03-09 10:00 (DingTalk account); never claimed; due 03-11 10:00: breached at NOW
    5 B minor   in 03-10 08:00, withdrawn 09:00
    6 A minor   in 02-27 10:00 (before the period), R1 claims 11:00, asks for info 12:00, resubmitted 03-02 12:00,
                recommends 13:00, R2 approves 14:00 (76 h wall clock, 4 h on the clock: met)
    """
    r1, r2 = first_reviewer, second_reviewer
    a_account = factories.AccountFactory(enterprise=enterprise)
    b_account = factories.AccountFactory(enterprise=other_enterprise, platform="dingtalk")
    b_account2 = factories.AccountFactory(enterprise=other_enterprise)

    def acct():
        return factories.AccountFactory(enterprise=enterprise)

    c1 = file_case(admin=enterprise_admin, account=a_account, severity="minor", when=at(2026, 3, 2, 10))
    act(at(2026, 3, 2, 12), svc.appeal_claim, appeal=c1, by=r1)
    act(at(2026, 3, 2, 13), svc.appeal_first_review, appeal=c1, by=r1, decision="approve")
    act(at(2026, 3, 2, 14), svc.appeal_claim, appeal=c1, by=r2)
    act(at(2026, 3, 2, 16), svc.appeal_second_review, appeal=c1, by=r2, decision="approve", outcome_code="restored")

    c2 = file_case(admin=enterprise_admin, account=acct(), severity="medium", when=at(2026, 3, 3, 9))
    act(at(2026, 3, 3, 13), svc.appeal_claim, appeal=c2, by=r1)
    act(at(2026, 3, 4, 9), svc.appeal_first_review, appeal=c2, by=r1, decision="reject", comment="=HYPERLINK(\"x\")")
    act(at(2026, 3, 4, 10), svc.appeal_claim, appeal=c2, by=r2)
    act(at(2026, 3, 5, 11), svc.appeal_second_review, appeal=c2, by=r2, decision="reject", comment="同意驳回",
        outcome_code="refused_violation_confirmed")

    c3 = file_case(admin=enterprise_admin, account=acct(), severity="severe", kind="entity_ban", when=at(2026, 3, 4, 10))
    act(at(2026, 3, 4, 18), svc.appeal_claim, appeal=c3, by=r2)

    c4 = file_case(admin=other_admin, account=b_account, severity="medium", when=at(2026, 3, 9, 10))

    c5 = file_case(admin=other_admin, account=b_account2, severity="minor", when=at(2026, 3, 10, 8))
    act(at(2026, 3, 10, 9), svc.appeal_withdraw, appeal=c5, by=other_admin)

    c6 = file_case(admin=enterprise_admin, account=acct(), severity="minor", when=at(2026, 2, 27, 10))
    act(at(2026, 2, 27, 11), svc.appeal_claim, appeal=c6, by=r1)
    act(at(2026, 2, 27, 12), svc.appeal_first_review, appeal=c6, by=r1, decision="request_info", comment="授权书")
    act(at(2026, 3, 2, 12), svc.appeal_resubmit, appeal=c6, by=enterprise_admin)
    act(at(2026, 3, 2, 13), svc.appeal_first_review, appeal=c6, by=r1, decision="approve")
    act(at(2026, 3, 2, 13, 30), svc.appeal_claim, appeal=c6, by=r2)
    act(at(2026, 3, 2, 14), svc.appeal_second_review, appeal=c6, by=r2, decision="approve", outcome_code="restored_with_warning")
    return {"cases": [c1, c2, c3, c4, c5, c6], "r1": r1, "r2": r2}
