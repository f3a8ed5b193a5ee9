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
import itertools
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from knox.settings import CONSTANTS
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from appeals.api.idempotency import valid_key
from appeals.core.services import appeals as svc
from appeals.surge import services as surge
from tests import builders, factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 6

# Rules a JSON Schema cannot state: schema-valid data these operations refuse with a field error
# (400), by design. positive_data_acceptance accepts a 400 here and nowhere else.
DOMAIN_RULES = {
    ("POST", "/api/v1/appeals/"): "one open appeal per incident; a phone's monthly appeal cap; a real mainland mobile",
    ("PATCH", "/api/v1/appeals/{reference}/"): "a contact phone is a real mainland China mobile number (libphonenumber)",
    ("POST", "/api/v1/accounts/"): "an account id is registered once per platform; a name is not blank once trimmed",
    ("POST", "/api/v1/incidents/"): "a ban time is neither in the future nor before 2000",
    ("POST", "/api/v1/appeals/{reference}/verification/code/"): "the code must be the one that was sent",
    ("POST", "/api/v1/appeals/{reference}/evidence/"): "the file's content must be what its kind accepts",
    ("GET", "/api/v1/reports/sla/"): "the period starts before it ends and spans at most the maximum days",
    ("GET", "/api/v1/reports/sla/{table}.csv"): "the period starts before it ends and spans at most the maximum days",
}
FUZZ_CONFIG = SchemathesisConfig.from_dict({"operations": [
    {"include-path": path, "include-method": method,
     "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]}}}
    for method, path in DOMAIN_RULES
]})


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
    # An open surge alert: its `resolution` is "" until it is resolved (the schema must say so).
    surge.surge_alert_open(slice_=("kind", "entity_ban"), verdict=surge.surge_rule(count=30, history=[2] * 7, floor=10, factor=3.0),
                           policy=surge.surge_policy(), now=timezone.now())
    return {
        "usernames": ["admin-a", "reviewer-1", "manager"],
        "enterprise_ids": [enterprise.pk],
        "reviewer_ids": [first_reviewer.pk, second_reviewer.pk],
        "references": [a.reference for a in appeals],
        "incident_ids": [a.incident_id for a in appeals],
        "account_ids": [a.pk for a in accounts],
        "personas": [enterprise_admin, first_reviewer, manager],
        "headers": [{"Authorization": f"Token {AuthToken.objects.create(user=u)[1]}"} for u in (enterprise_admin, first_reviewer, manager)],
    }


def _signed_in(world) -> list[dict]:
    """The personas' headers, each with a live token. Every operation runs in this one test, in
    turn: a logout or a token revocation that succeeds would leave every later operation
    answering 401 (half the API, once, went unfuzzed that way), so a revoked token is replaced."""
    for i, user in enumerate(world["personas"]):
        key = world["headers"][i]["Authorization"].split()[1][: CONSTANTS.TOKEN_KEY_LENGTH]
        if not AuthToken.objects.filter(token_key=key).exists():
            world["headers"][i] = {"Authorization": f"Token {AuthToken.objects.create(user=user)[1]}"}
    return world["headers"]


@pytest.fixture
def api_schema(fuzz_world):
    from config.wsgi import application

    # Like Django's test client: keep the per-request connection cleanup from closing the
    # test's transaction (the WSGI app runs in this thread, on this connection).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=FUZZ_CONFIG)
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


_KEYS = itertools.count(1)


def _own_idempotency_key(case) -> None:
    """One Idempotency-Key, one request: a rule no schema states. The generator repeats keys
    ("0") for different requests, which the API refuses by design (422); a well-formed key is made
    this case's own (a malformed one is left for the negative checks). Replays are tested in
    tests/api/test_idempotency.py."""
    headers = case.headers  # a case-insensitive mapping, or None
    if headers and headers.get("Idempotency-Key") and valid_key(headers["Idempotency-Key"]):
        headers["Idempotency-Key"] = f"fuzz-{next(_KEYS)}-{headers['Idempotency-Key'][:200].rstrip()}"


def _aim_at_real_objects(case, world) -> None:
    """Schema-valid (positive) cases refer to objects that exist, so valid data reaches the
    services and is judged by positive_data_acceptance; paths still miss now and then (404).
    Schema-violating (negative) cases are left as generated."""
    _own_idempotency_key(case)
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        return
    params = case.path_parameters or {}
    if "reference" in params:
        params["reference"] = _pick(params["reference"], world["references"])
    if "id" in params:
        pool = world["account_ids"] if "/accounts/" in case.operation.path else world["incident_ids"]
        params["id"] = _pick(params["id"], pool)
    query = case.query if isinstance(case.query, dict) else {}
    for field, pool in (("enterprise", world["enterprise_ids"]), ("account", world["account_ids"]),
                        ("reviewer", world["reviewer_ids"])):
        if query.get(field) not in (None, ""):
            query[field] = pool[int(hashlib.sha256(repr(query[field]).encode()).hexdigest(), 16) % len(pool)]
    if isinstance(case.body, dict):
        for field, pool in (("account", world["account_ids"]), ("incident", world["incident_ids"]),
                            ("assignee", ["reviewer-1", "reviewer-2"]), ("username", world["usernames"])):
            if field in case.body:
                case.body[field] = pool[int(hashlib.sha256(repr(case.body[field]).encode()).hexdigest(), 16) % len(pool)]
        if "password" in case.body and "username" in case.body:
            case.body["password"] = "demo-pass-2026"


# Some 13,000 requests within a few minutes, a third as each persona: at the production rates
# (600/min per user) about half were answered 429, which every check accepts, so the test
# passed without reaching the code behind them.
@pytest.mark.usefixtures("relaxed_throttles")
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_default_check_passes(case, fuzz_world):
    _aim_at_real_objects(case, fuzz_world)
    OPERATIONS.add(case.operation.label)
    failures = []
    for persona in range(len(fuzz_world["personas"])):
        headers = _signed_in(fuzz_world)[persona]
        response = case.call(headers=headers)
        STATUSES[response.status_code] += 1
        try:
            case.validate_response(response, headers=headers)  # no `checks=`: every default check
        except FailureGroup as group:
            for failure in group.exceptions:
                FAILURES[failure.title] += 1
            failures.append(group)
    if failures:
        raise failures[0]
