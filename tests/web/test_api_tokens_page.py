"""The signed-in user's API tokens page: lists their own tokens (not the keys), revokes one."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_user_sees_and_revokes_own_tokens(client, enterprise_admin, other_admin):
    mine, key = AuthToken.objects.create(user=enterprise_admin)
    theirs, _ = AuthToken.objects.create(user=other_admin)
    client.force_login(enterprise_admin)
    body = client.get("/account/tokens/").content.decode()
    assert mine.token_key in body and theirs.token_key not in body and key not in body
    assert 'href="/account/tokens/"' in body  # linked from the header
    # Someone else's token cannot be revoked from here.
    client.post("/account/tokens/", {"token_key": theirs.token_key})
    assert AuthToken.objects.filter(pk=theirs.pk).exists()
    response = client.post("/account/tokens/", {"token_key": mine.token_key}, follow=True)
    assert response.status_code == 200 and "revoked" in response.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/appeals/").status_code == 401


def test_page_needs_sign_in(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
