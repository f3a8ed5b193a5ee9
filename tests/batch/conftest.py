"""Batch review fixtures: a ban wave of alike appeals in first review, across two enterprises."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.core.services import appeals as appeal_services
from tests import factories

_phone = iter(range(10_000_000))


def alike_wave(n: int, *, enterprises, kind="short_ban", reason="user_reports", banned_at=None, step=timedelta(seconds=20)):
    """n appeals for n incidents of one kind and reason, banned seconds apart, each submitted into
    first review (intake guards off: the test is about review, see `intake_guards_off`)."""
    banned_at = banned_at or timezone.now() - timedelta(hours=1)
    out = []
    for i in range(n):
        enterprise = enterprises[i % len(enterprises)]
        admin = factories.UserFactory(username=f"wave-admin-{enterprise.pk}", enterprise=enterprise)
        account = factories.AccountFactory(enterprise=enterprise)
        incident = factories.IncidentFactory(account=account, created_by=admin, kind=kind, reason=reason,
                                             banned_at=banned_at + i * step)
        appeal = appeal_services.appeal_create(by=admin, incident=incident, statement="误封，请求解封。",
                                               contact_phone=f"136{next(_phone):08d}")
        out.append(appeal_services.appeal_submit(appeal=appeal, by=admin))
    return out


@pytest.fixture
def wave(intake_guards_off, enterprise, other_enterprise):
    appeals = alike_wave(6, enterprises=[enterprise, other_enterprise])
    assert {a.state for a in appeals} == {"first_review"}
    return appeals


@pytest.fixture
def third_reviewer(db):
    return factories.UserFactory(username="reviewer-3", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)
