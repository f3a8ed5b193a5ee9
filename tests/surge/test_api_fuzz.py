"""Schemathesis over the surge endpoints of the OpenAPI schema: no input makes a 500."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from knox.models import AuthToken

from appeals.surge import services as surge
from tests.surge.conftest import NOW


@pytest.fixture
def surge_schema():
    full = SchemaGenerator().get_schema(request=None, public=True)
    full["paths"] = {p: ops for p, ops in full["paths"].items() if p.startswith("/api/v1/surge/")}
    loaded = schemathesis.openapi.from_dict(full)
    loaded.app = get_wsgi_application()
    # As Django's test client does: keep the test's connection (and transaction) across requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield loaded
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("surge_schema")


@pytest.fixture
def manager_token(db, manager):
    verdict = surge.surge_rule(count=30, history=[2] * 7, floor=10, factor=3.0)
    surge.surge_alert_open(slice_=surge.ALL_SLICE, verdict=verdict, policy=surge.surge_policy(), now=NOW)
    return AuthToken.objects.create(user=manager)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_surge_api_never_answers_500(case, manager_token):
    response = case.call(headers={"Authorization": f"Token {manager_token}"})
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
