"""The batch run as deployed: the recommend and confirm requests return at once, a real Celery
worker moves the cases, the progress shows it, and each applicant's decision notice is mailed."""

import pytest

from appeals.batch import selectors, services
from appeals.batch.models import BatchGroup, GroupState
from appeals.core.models import Appeal, AppealState
from appeals.notifications.models import Message, MessageState
from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_recommend_and_confirm(celery_worker, wave, first_reviewer, second_reviewer, smtp_server):
    group = services.batch_group_create(by=first_reviewer, references=[a.reference for a in wave])
    services.batch_recommend(by=first_reviewer, group=group, recommendation="approve", outcome_code="restored",
                             comment="平台误封，批量恢复。", exclude=[wave[0].reference])
    wait_for(lambda: BatchGroup.objects.get(pk=group.pk).state == GroupState.RECOMMENDED, timeout=60)
    progress = selectors.batch_progress(group=group)
    assert progress["done"] == len(wave) - 1 and progress["pending"] == 0 and progress["finished_at"]

    services.batch_confirm(by=second_reviewer, group=group)
    wait_for(lambda: BatchGroup.objects.get(pk=group.pk).state == GroupState.DONE, timeout=60)
    decided = Appeal.objects.filter(pk__in=[a.pk for a in wave[1:]])
    assert {a.state for a in decided} == {AppealState.APPROVED}
    notices = Message.objects.filter(appeal__in=decided, template="appeal_decided")
    assert notices.count() == len(wave) - 1
    wait_for(lambda: notices.filter(state=MessageState.SENT).count() == len(wave) - 1, timeout=60)
