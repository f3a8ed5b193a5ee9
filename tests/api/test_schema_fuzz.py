"""Schemathesis over the app's own OpenAPI schema with every default check: no 5xx, every
status, content type, header and body as the schema declares, schema-invalid input refused,
missing credentials refused.

The schema is loaded from /api/schema/ through the WSGI app (in-process, same database
connection as the test), every operation is fuzzed with a small, derandomized budget,
and each generated request is sent as three personas who have data: the enterprise
admin, a reviewer and a manager. Half of the generated path parameters are swapped for
references/ids of real objects, so the bodies reach the services and the workflow
instead of stopping at a 404.
"""

import hashlib
import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.core.failures import FailureGroup

from appeals.core.services import appeals as svc
from tests import builders, factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 12


@pytest.fixture
def fuzz_world(enterprise, enterprise_admin, first_reviewer, second_reviewer, manager, other_admin):
    """Appeals in several states, two accounts, incidents with and without appeals."""
    accounts = [factories.AccountFactory(enterprise=enterprise) for _ in range(2)]
    appeals = []
    for i in range(6):
        incident = factories.IncidentFactory(account=accounts[i % 2], created_by=enterprise_admin)
        appeal = svc.appeal_create(by=enterprise_admin, incident=incident, statement=f"Statement {i}",
                                   contact_phone=f"1350000{i:04d}")
        if i >= 1:
            appeal = builders.submitted_appeal(appeal, enterprise_admin)
        if i >= 2:
            appeal = svc.appeal_claim(appeal=appeal, by=first_reviewer)
        if i == 3:
            appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="request_info", comment="more")
        if i == 4:
            appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="escalate", comment="hotline")
        if i == 5:
            appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="approve")
        appeals.append(appeal)
    factories.IncidentFactory(account=accounts[0], created_by=enterprise_admin)  # no appeal yet
    return {
        "references": [a.reference for a in appeals],
        "incident_ids": [a.incident_id for a in appeals],
        "account_ids": [a.pk for a in accounts],
        "headers": [
            {"Authorization": f"Token {Token.objects.get_or_create(user=u)[0].key}"}
            for u in (enterprise_admin, first_reviewer, manager)
        ],
    }


@pytest.fixture
def api_schema(fuzz_world):
    from config.wsgi import application

    # Like Django's test client: keep the per-request connection cleanup from closing the
    # test's transaction (the WSGI app runs in this thread, on this connection).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")
STATUSES: Counter = Counter()
OPERATIONS: set = set()
FAILURES: Counter = Counter()  # check name -> failures seen


@pytest.fixture(scope="module", autouse=True)
def _report_statuses():
    yield
    print(f"\nschema fuzzing: {len(OPERATIONS)} operations, {sum(STATUSES.values())} requests, "
          f"by status: {dict(sorted(STATUSES.items()))}, failures by check: {dict(sorted(FAILURES.items()))}")


def _pick(value, pool):
    """Deterministically, two times in three, a real object from pool instead of value."""
    digest = int(hashlib.sha256(repr(value).encode()).hexdigest(), 16)
    return value if digest % 3 == 0 else pool[digest // 3 % len(pool)]


def _aim_at_real_objects(case, world) -> None:
    """Swap most generated references and ids for real ones so requests reach the services."""
    params = case.path_parameters or {}
    if "reference" in params:
        params["reference"] = _pick(params["reference"], world["references"])
    if "id" in params:
        pool = world["account_ids"] if "/accounts/" in case.operation.path else world["incident_ids"]
        params["id"] = _pick(params["id"], pool)
    if isinstance(case.body, dict):
        for field, pool in (("account", world["account_ids"]), ("incident", world["incident_ids"]),
                            ("assignee", ["reviewer-1", "reviewer-2", "manager"])):
            if field in case.body:
                case.body[field] = _pick(case.body[field], pool)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_default_check_passes(case, fuzz_world):
    _aim_at_real_objects(case, fuzz_world)
    OPERATIONS.add(case.operation.label)
    failures = []
    for headers in fuzz_world["headers"]:
        response = case.call(headers=headers)
        STATUSES[response.status_code] += 1
        try:
            case.validate_response(response, headers=headers)  # no `checks=`: every default check
        except FailureGroup as group:
            for failure in group.exceptions:
                FAILURES[failure.title] += 1
            failures.append(group)
    if failures and os.environ.get("FUZZ_EXPLORE"):
        with open("/tmp/api_fuzz_failures.txt", "a") as out:
            for g in failures:
                out.write(f"=== {case.operation.label}\n{g}\n")
        return
    if failures:
        raise failures[0]
