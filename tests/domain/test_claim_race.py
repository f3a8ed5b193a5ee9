"""Two reviewers claim the same case at the same moment: exactly one wins (PostgreSQL row lock)."""

import threading

import pytest
from django.db import connections

from appeals.core.services import appeals as svc
from appeals.models import Appeal, AppealEvent
from appeals.shared.exceptions import GuardFailed
from tests import builders, factories

pytestmark = pytest.mark.django_db(transaction=True)


def _race(appeal_pk, users):
    barrier = threading.Barrier(len(users))
    outcomes = {}

    def claim(user):
        try:
            appeal = Appeal.objects.get(pk=appeal_pk)  # both read it unclaimed
            barrier.wait()
            svc.appeal_claim(appeal=appeal, by=user)
            outcomes[user.username] = "won"
        except GuardFailed as exc:
            outcomes[user.username] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("trial", range(5))
def test_exactly_one_of_two_simultaneous_claims_wins(trial):
    admin = factories.UserFactory(enterprise=factories.EnterpriseFactory())
    incident = factories.IncidentFactory(account__enterprise=admin.enterprise, created_by=admin)
    appeal = builders.submitted_appeal(
        svc.appeal_create(by=admin, incident=incident, statement="s", contact_phone="13812340000"), admin
    )
    r1 = factories.UserFactory(is_first_reviewer=True)
    r2 = factories.UserFactory(is_first_reviewer=True)

    outcomes = _race(appeal.pk, [r1, r2])

    assert sorted(outcomes.values()) == ["already_claimed", "won"]
    winner = r1 if outcomes[r1.username] == "won" else r2
    appeal.refresh_from_db()
    assert appeal.first_reviewer_id == winner.pk
    assert AppealEvent.objects.filter(appeal=appeal, action="claim_first").count() == 1
