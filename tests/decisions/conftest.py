"""Fixtures for reasoned decisions, time to recovery and precedents."""

import pytest

from appeals.core.services import appeals as svc
from tests.api.conftest import client_for


@pytest.fixture
def api_as():
    return client_for


@pytest.fixture
def second_claimed_appeal(second_review_appeal, second_reviewer):
    return svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)


@pytest.fixture
def escalated_appeal(claimed_appeal, first_reviewer):
    return svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="escalate",
                                   comment="Entity-level ban; needs the hotline.")


from tests.sla.conftest import china_calendar, desk  # noqa: E402, F401  (the SLA report fixture)
