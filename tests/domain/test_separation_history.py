"""Separation of duties over the case's whole history: whoever recommended in any first review
of a case never claims, is assigned or decides its second review, even after a return to first
review and a manager's reassignment moved `first_reviewer` to someone else."""

import pytest
from django.test import Client

from appeals.core.services import appeals as svc
from appeals.models import Appeal, AppealState
from appeals.shared.exceptions import PermissionDenied
from tests import factories
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def third_reviewer(db):
    return factories.UserFactory(username="reviewer-3", is_first_reviewer=True, is_second_reviewer=True, is_staff=True)


@pytest.fixture
def returned_and_reassigned(second_review_appeal, first_reviewer, second_reviewer, manager):
    """A (first_reviewer) recommended; B (second_reviewer) claimed the second review and returned it;
    the manager handed the first review to B; B recommended. A is no longer `first_reviewer`."""
    appeal = svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="return", comment="Check the licence")
    assert appeal.state == AppealState.FIRST_REVIEW and appeal.first_reviewer == first_reviewer
    appeal = svc.appeal_reassign(appeal=appeal, by=manager, assignee=second_reviewer)
    appeal = svc.appeal_first_review(appeal=appeal, by=second_reviewer, decision="approve")
    assert appeal.state == AppealState.SECOND_REVIEW and appeal.first_reviewer == second_reviewer
    return appeal


def test_earlier_recommender_cannot_claim_the_second_review(returned_and_reassigned, first_reviewer):
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_claim(appeal=returned_and_reassigned, by=first_reviewer)
    assert exc.value.code == "separation_of_duties"
    returned_and_reassigned.refresh_from_db()
    assert returned_and_reassigned.second_reviewer is None


def test_manager_cannot_assign_the_second_review_to_an_earlier_recommender(returned_and_reassigned, first_reviewer, manager):
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_reassign(appeal=returned_and_reassigned, by=manager, assignee=first_reviewer)
    assert exc.value.code == "separation_of_duties"


def test_someone_who_never_recommended_may_take_it(returned_and_reassigned, third_reviewer, manager):
    appeal = svc.appeal_reassign(appeal=returned_and_reassigned, by=manager, assignee=third_reviewer)
    appeal = svc.appeal_second_review(appeal=appeal, by=third_reviewer, decision="approve", outcome_code="restored")
    assert appeal.state == AppealState.APPROVED


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_earlier_recommender_holding_the_claim_cannot_decide(returned_and_reassigned, first_reviewer, decision):
    # A claim that predates the rule (written before this release) does not let A decide.
    Appeal.objects.filter(pk=returned_and_reassigned.pk).update(second_reviewer=first_reviewer)
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_second_review(appeal=returned_and_reassigned, by=first_reviewer, decision=decision, comment="ok")
    assert exc.value.code == "separation_of_duties"
    returned_and_reassigned.refresh_from_db()
    assert returned_and_reassigned.state == AppealState.SECOND_REVIEW


def test_recommender_who_is_also_manager_cannot_decide_the_escalated_case(submitted_appeal, manager, second_reviewer):
    boss = factories.UserFactory(username="boss", is_first_reviewer=True, is_second_reviewer=True, is_manager=True, is_staff=True)
    appeal = svc.appeal_claim(appeal=submitted_appeal, by=boss)
    appeal = svc.appeal_first_review(appeal=appeal, by=boss, decision="approve")
    appeal = svc.appeal_claim(appeal=appeal, by=second_reviewer)
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="return", comment="Call them")
    appeal = svc.appeal_reassign(appeal=appeal, by=manager, assignee=second_reviewer)
    appeal = svc.appeal_first_review(appeal=appeal, by=second_reviewer, decision="escalate", comment="Hotline")
    with pytest.raises(PermissionDenied) as exc:
        svc.appeal_decide_escalated(appeal=appeal, by=boss, decision="approve", outcome_code="restored")
    assert exc.value.code == "separation_of_duties"
    assert svc.appeal_decide_escalated(appeal=appeal, by=manager, decision="approve",
                                       outcome_code="restored").state == AppealState.APPROVED


def test_api_refuses_claim_and_reassign_with_the_code(returned_and_reassigned, first_reviewer, manager):
    ref = returned_and_reassigned.reference
    r = client_for(first_reviewer).post(f"/api/v1/appeals/{ref}/claim/", format="json")
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties", r.json()
    r = client_for(manager).post(f"/api/v1/appeals/{ref}/reassign/", {"assignee": "reviewer-1"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties", r.json()


def test_case_page_neither_offers_nor_accepts_it(returned_and_reassigned, first_reviewer, manager, third_reviewer):
    ref = returned_and_reassigned.reference
    client = Client()
    client.force_login(first_reviewer)
    page = client.get(f"/appeals/{ref}/")
    assert not [g for g in page.context["groups"] if g.key == "claim"]
    refused = client.post(f"/appeals/{ref}/", {"action": "claim_second"})
    assert refused.status_code == 403
    assert "someone other than the first reviewer" in refused.content.decode()

    boss = Client()
    boss.force_login(manager)
    reassign = next(g for g in boss.get(f"/appeals/{ref}/").context["groups"] if g.key == "reassign")
    assert list(reassign.form.fields["assignee"].queryset) == [third_reviewer]
    refused = boss.post(f"/appeals/{ref}/", {"action": "reassign", "assignee": first_reviewer.pk})
    assert refused.status_code == 403


def test_manager_overview_does_not_offer_an_earlier_recommender(returned_and_reassigned, first_reviewer, second_reviewer,
                                                                 manager, third_reviewer):
    client = Client()
    client.force_login(manager)
    page = client.get("/manager/")
    (case,) = [a for a in page.context["in_review"] if a.pk == returned_and_reassigned.pk]
    assert {first_reviewer.pk, second_reviewer.pk} <= case.excluded_reviewers
    row = page.content.decode().split(f'action="/appeals/{returned_and_reassigned.reference}/"')[1].split("</form>")[0]
    assert f'value="{third_reviewer.pk}"' in row
    assert f'value="{first_reviewer.pk}"' not in row and f'value="{second_reviewer.pk}"' not in row
