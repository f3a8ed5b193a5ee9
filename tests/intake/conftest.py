"""Intake personas: the enforcement system's service account (serving one enterprise), its token client."""

import pytest
from rest_framework.test import APIClient

from appeals.intake import services


@pytest.fixture
def enforcement(manager, enterprise):
    """A service account serving `enterprise` only."""
    return services.service_account_create(by=manager, name="WeCom enforcement", enterprises=[enterprise])


def token_key(manager, service_account) -> str:
    _instance, key = services.service_account_token_issue(by=manager, service_account=service_account)
    return key


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def token_client(manager, service_account) -> APIClient:
    return client_with(token_key(manager, service_account))


@pytest.fixture
def enforcement_api(manager, enforcement):
    return token_client(manager, enforcement)


def push_body(account, **overrides) -> dict:
    body = {
        "platform": account.platform,
        "account_id": account.account_id,
        "banned_at": "2026-12-01T09:30:00+08:00",
        "kind": "permanent_ban",
        "reason": "user_reports",
        "notice_text": "该账号因被多次投诉，已被永久封禁。",
    }
    body.update(overrides)
    return body
