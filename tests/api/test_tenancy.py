"""The tenancy matrix: every endpoint x every persona, with the status each must get.

Another enterprise's appeal, incident or account is 404 (it does not exist for them);
the anonymous caller is 401; roles that may see but not act get 403; an action refused
by the workflow from this state would be 409 (not expected here: each row starts in the
state where the action is legal for its rightful actor).
"""

import pytest
from django.utils import timezone

from appeals.models import Appeal, AppealEvent, BanIncident, MessagingAccount

pytestmark = pytest.mark.django_db

ROLES = ("own_admin", "foreign_admin", "first_reviewer", "second_reviewer", "manager", "anonymous")
PERSONA = {"own_admin": "enterprise_admin", "foreign_admin": "other_admin", "first_reviewer": "first_reviewer",
           "second_reviewer": "second_reviewer", "manager": "manager", "anonymous": None}


def _phone_body(case):
    return {"statement": "Updated statement.", "contact_phone": "13700001111"}


def _incident_body(case):
    return {"account": case.incident.account_id, "kind": "short_ban",
            "banned_at": (timezone.now() - timezone.timedelta(hours=1)).isoformat()}


def _account_body(case):
    return {"account_id": "wx-matrix-new", "display_name": "New", "account_type": "operations"}


def _appeal_body(case):
    incident = BanIncident.objects.create(enterprise=case.enterprise, account=case.incident.account, kind="short_ban",
                                          severity="medium", banned_at=timezone.now(), created_by=case.filed_by)
    return {"incident": incident.pk, "statement": "Please lift it.", "contact_phone": "13700002222"}


#          name              method  url (of the case)                                        stage          body
ENDPOINTS = {
    "appeal-list":      ("get",   lambda c: "/api/v1/appeals/",                                    "first_review", None),
    "appeal-detail":    ("get",   lambda c: f"/api/v1/appeals/{c.reference}/",                    "first_review", None),
    "appeal-timeline":  ("get",   lambda c: f"/api/v1/appeals/{c.reference}/timeline/",           "first_review", None),
    "appeal-create":    ("post",  lambda c: "/api/v1/appeals/",                                    "first_review", _appeal_body),
    "appeal-edit":      ("patch", lambda c: f"/api/v1/appeals/{c.reference}/",                    "draft", _phone_body),
    "submit":           ("post",  lambda c: f"/api/v1/appeals/{c.reference}/submit/",             "complete_draft", None),
    "withdraw":         ("post",  lambda c: f"/api/v1/appeals/{c.reference}/withdraw/",           "first_review", None),
    "resubmit":         ("post",  lambda c: f"/api/v1/appeals/{c.reference}/resubmit/",           "needs_info", None),
    "claim":            ("post",  lambda c: f"/api/v1/appeals/{c.reference}/claim/",              "first_review", None),
    "first-review":     ("post",  lambda c: f"/api/v1/appeals/{c.reference}/first-review/",       "claimed",
                         lambda c: {"decision": "approve"}),
    "second-review":    ("post",  lambda c: f"/api/v1/appeals/{c.reference}/second-review/",      "second_claimed",
                         lambda c: {"decision": "approve", "outcome_code": "restored"}),
    "decide":           ("post",  lambda c: f"/api/v1/appeals/{c.reference}/decide/",             "escalated",
                         lambda c: {"decision": "approve", "outcome_code": "restored"}),
    "reassign":         ("post",  lambda c: f"/api/v1/appeals/{c.reference}/reassign/",           "claimed",
                         lambda c: {"assignee": "reviewer-2"}),
    "incident-list":    ("get",   lambda c: "/api/v1/incidents/",                                  "first_review", None),
    "incident-detail":  ("get",   lambda c: f"/api/v1/incidents/{c.incident_id}/",                "first_review", None),
    "incident-create":  ("post",  lambda c: "/api/v1/incidents/",                                  "first_review", _incident_body),
    "incident-severity": ("post", lambda c: f"/api/v1/incidents/{c.incident_id}/severity/",       "first_review",
                          lambda c: {"severity": "severe"}),
    "account-list":     ("get",   lambda c: "/api/v1/accounts/",                                   "first_review", None),
    "account-detail":   ("get",   lambda c: f"/api/v1/accounts/{c.incident.account_id}/",         "first_review", None),
    "account-create":   ("post",  lambda c: "/api/v1/accounts/",                                   "first_review", _account_body),
    "account-update":   ("patch", lambda c: f"/api/v1/accounts/{c.incident.account_id}/",         "first_review",
                         lambda c: {"display_name": "Renamed"}),
}

# Expected status per role, in ROLES order:
#                     own   foreign  rev-1  rev-2  manager  anon
EXPECTED = {
    "appeal-list":      (200, 200,    200,   200,   200,     401),
    "appeal-detail":    (200, 404,    200,   200,   200,     401),
    "appeal-timeline":  (200, 404,    200,   200,   200,     401),
    # A foreign incident id in the body is "does not exist", exactly like an unknown id.
    "appeal-create":    (201, 400,    403,   403,   403,     401),
    # The desk never sees drafts: they do not exist for it either.
    "appeal-edit":      (200, 404,    404,   404,   404,     401),
    "submit":           (200, 404,    404,   404,   404,     401),
    "withdraw":         (200, 404,    403,   403,   403,     401),
    "resubmit":         (200, 404,    403,   403,   403,     401),
    "claim":            (403, 404,    200,   200,   403,     401),
    # reviewer-1 holds the claim; reviewer-2 may first-review but not someone else's claim.
    "first-review":     (403, 404,    200,   403,   403,     401),
    "second-review":    (403, 404,    403,   200,   403,     401),
    "decide":           (403, 404,    403,   403,   200,     401),
    "reassign":         (403, 404,    403,   403,   200,     401),
    "incident-list":    (200, 200,    200,   200,   200,     401),
    "incident-detail":  (200, 404,    200,   200,   200,     401),
    "incident-create":  (201, 400,    403,   403,   403,     401),
    "incident-severity": (403, 404,   200,   200,   200,     401),
    "account-list":     (200, 200,    200,   200,   200,     401),
    "account-detail":   (200, 404,    200,   200,   200,     401),
    "account-create":   (201, 201,    403,   403,   403,     401),
    "account-update":   (200, 404,    403,   403,   403,     401),
}
assert set(EXPECTED) == set(ENDPOINTS)

STAGE_FIXTURE = {"draft": "draft_appeal", "complete_draft": "complete_draft", "first_review": "submitted_appeal", "claimed": "claimed_appeal",
                 "needs_info": "needs_info_appeal", "escalated": "escalated_appeal",
                 "second_claimed": "second_claimed_appeal"}

MATRIX = [(name, role, EXPECTED[name][i]) for name in ENDPOINTS for i, role in enumerate(ROLES)]


def _snapshot(case):
    case = Appeal.objects.get(pk=case.pk)
    account = MessagingAccount.objects.get(pk=case.incident.account_id)
    return (case.state, case.statement, case.first_reviewer_id, case.second_reviewer_id,
            AppealEvent.objects.filter(appeal=case).count(), case.incident.severity, account.display_name)


@pytest.mark.parametrize(("endpoint", "role", "expected"), MATRIX, ids=[f"{n}-{r}" for n, r, _ in MATRIX])
def test_tenancy_matrix(request, api_as, endpoint, role, expected, other_admin, first_reviewer, second_reviewer, manager):
    method, url, stage, body = ENDPOINTS[endpoint]
    case = request.getfixturevalue(STAGE_FIXTURE[stage])
    user = request.getfixturevalue(PERSONA[role]) if PERSONA[role] else None
    before = _snapshot(case)

    response = getattr(api_as(user), method)(url(case), body(case) if body else {}, format="json")

    assert response.status_code == expected, response.content
    payload = response.json()
    if expected >= 400:
        assert set(payload) == {"detail", "code", "fields"}
        if expected != 400:
            assert _snapshot(case) == before, "a refused request changed something"
    if expected == 404:
        # Nothing about the other tenant's object leaks into the error.
        assert case.reference not in response.content.decode()
    if expected == 400 and role == "foreign_admin":
        assert set(payload["fields"]) in ({"incident"}, {"account"})
    if endpoint.endswith("-list") and expected == 200:
        listed = {row.get("reference") or row.get("id") for row in payload["results"]}
        subject = {"appeal-list": case.reference, "incident-list": case.incident_id,
                   "account-list": case.incident.account_id}[endpoint]
        assert (subject in listed) == (role != "foreign_admin")
