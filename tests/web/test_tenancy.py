"""Every page x role x own/foreign: another enterprise's case does not exist (404)."""

import pytest

from appeals.models import Appeal, AppealState

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "enterprise_admin", "other_admin", "first_reviewer", "manager", "superuser"]


def _persona(request, name):
    return None if name == "anonymous" else request.getfixturevalue(name)


# page -> expected status per persona (302 = sent to the login page or the role's home)
PAGES = {
    "/": {"anonymous": 302, "enterprise_admin": 302, "other_admin": 302, "first_reviewer": 302, "manager": 302, "superuser": 302},
    "/dashboard/": {"anonymous": 302, "enterprise_admin": 200, "other_admin": 200, "first_reviewer": 403, "manager": 403, "superuser": 403},
    "/appeals/": {"anonymous": 302, "enterprise_admin": 200, "other_admin": 200, "first_reviewer": 200, "manager": 200, "superuser": 200},
    "/appeals/new/": {"anonymous": 302, "enterprise_admin": 200, "other_admin": 200, "first_reviewer": 403, "manager": 403, "superuser": 403},
    "/queues/first/": {"anonymous": 302, "enterprise_admin": 403, "other_admin": 403, "first_reviewer": 200, "manager": 403, "superuser": 200},
    "/queues/second/": {"anonymous": 302, "enterprise_admin": 403, "other_admin": 403, "first_reviewer": 200, "manager": 403, "superuser": 200},
    "/manager/": {"anonymous": 302, "enterprise_admin": 403, "other_admin": 403, "first_reviewer": 403, "manager": 200, "superuser": 200},
    "/login/": {"anonymous": 200, "enterprise_admin": 302, "other_admin": 302, "first_reviewer": 302, "manager": 302, "superuser": 302},
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("path", list(PAGES))
def test_page_by_role(request, login, path, persona, submitted_appeal):
    response = login(_persona(request, persona)).get(path)
    assert response.status_code == PAGES[path][persona]
    if persona == "anonymous" and response.status_code == 302:
        assert response["Location"].startswith("/login/")


# The case page of admin-a's submitted appeal: the owner and the desk see it, the other tenant gets 404.
CASE = {"anonymous": 302, "enterprise_admin": 200, "other_admin": 404, "first_reviewer": 200, "manager": 200, "superuser": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_page_get(request, login, persona, submitted_appeal):
    response = login(_persona(request, persona)).get(f"/appeals/{submitted_appeal.reference}/")
    assert response.status_code == CASE[persona]
    if response.status_code == 200:
        assert submitted_appeal.reference in response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_page_post(request, login, persona, submitted_appeal):
    """A foreign tenant's POST is a 404 and changes nothing, whatever action it names."""
    response = login(_persona(request, persona)).post(
        f"/appeals/{submitted_appeal.reference}/", {"action": "withdraw", "comment": "mine now"}
    )
    submitted_appeal.refresh_from_db()
    if persona == "enterprise_admin":
        assert response.status_code == 302
        assert submitted_appeal.state == AppealState.WITHDRAWN
    elif persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert submitted_appeal.state == AppealState.FIRST_REVIEW
    elif persona == "other_admin":
        assert response.status_code == 404
        assert submitted_appeal.state == AppealState.FIRST_REVIEW
    else:
        # Desk staff may not withdraw an applicant's appeal: refused on the page, not a 500.
        assert response.status_code == 403
        assert submitted_appeal.state == AppealState.FIRST_REVIEW
        assert "may not" in response.content.decode()


@pytest.mark.parametrize("persona", ["first_reviewer", "manager", "other_admin"])
def test_draft_is_not_found_for_anyone_but_its_tenant(request, login, persona, draft_appeal):
    assert login(request.getfixturevalue(persona)).get(f"/appeals/{draft_appeal.reference}/").status_code == 404


def test_unknown_reference_is_404(login, enterprise_admin):
    assert login(enterprise_admin).get("/appeals/AP-2099-999999/").status_code == 404


def test_lists_show_only_own_tenant(login, enterprise_admin, other_admin, submitted_appeal, first_reviewer):
    ref = submitted_appeal.reference
    assert ref in login(enterprise_admin).get("/appeals/").content.decode()
    assert ref in login(enterprise_admin).get("/dashboard/").content.decode()
    assert ref not in login(other_admin).get("/appeals/").content.decode()
    assert ref not in login(other_admin).get("/dashboard/").content.decode()
    assert ref in login(first_reviewer).get("/appeals/").content.decode()
    assert ref in login(first_reviewer).get("/queues/first/").content.decode()


def test_new_appeal_refuses_a_foreign_account(login, other_admin, account):
    """admin-b names admin-a's account: a field error, and nothing is recorded."""
    response = login(other_admin).post("/appeals/new/", {
        "account": account.pk, "kind": "short_ban", "reason": "spam", "banned_at": "2026-01-05T10:00",
        "notice_text": "", "statement": "Please", "contact_phone": "13911112222",
    })
    assert response.status_code == 400
    assert response.context["form"].errors["account"]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("persona", ["anonymous", "enterprise_admin"])
def test_unknown_page_is_a_plain_404(request, login, persona):
    response = login(_persona(request, persona)).get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
