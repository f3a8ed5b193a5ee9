"""SLA fixtures: the seeded China calendar and cases filed at a controlled moment."""

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals.services import appeals as appeal_services
from appeals.services.calendar import work_calendar_seed
from tests import factories

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
    """File and submit an appeal at `when`; it enters first review at that moment."""
    with time_machine.travel(when, tick=False):
        incident = factories.IncidentFactory(account=account, created_by=admin, severity=severity, kind=kind, banned_at=when)
        appeal = appeal_services.appeal_create(
            by=admin, incident=incident, statement="请求解封", contact_phone=f"135{next(_phones):08d}"
        )
        return appeal_services.appeal_submit(appeal=appeal, by=admin)


def act(when: datetime, fn, **kwargs):
    with time_machine.travel(when, tick=False):
        return fn(**kwargs)
