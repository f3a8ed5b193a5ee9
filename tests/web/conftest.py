"""Fixtures for the web pages: a logged-in test client per persona."""

import pytest
from django.test import Client


@pytest.fixture
def login():
    def _login(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return _login
