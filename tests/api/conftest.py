"""API fixtures: a token-authenticated client per persona, and cases at every stage."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from appeals.core.services import appeals as svc


def client_for(user) -> APIClient:
    """A client that authenticates the way API consumers do: with a token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _instance, key = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api_as():
    return client_for


@pytest.fixture
def needs_info_appeal(claimed_appeal, first_reviewer):
    return svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="request_info",
                                   comment="Please upload the sealed authorisation letter.")


@pytest.fixture
def escalated_appeal(claimed_appeal, first_reviewer):
    return svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="escalate",
                                   comment="Entity-level ban; needs the hotline.")


@pytest.fixture
def second_claimed_appeal(second_review_appeal, second_reviewer):
    return svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
