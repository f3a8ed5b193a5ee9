"""Batch review pages: proposals, create, recommend with exclusions, confirm, split, progress;
both languages; linked from the reviewer queue; nothing for an enterprise admin."""

import pytest

from appeals.batch import services
from appeals.batch.models import BatchGroup, GroupState, MemberStatus
from appeals.core.models import Appeal, AppealState

pytestmark = pytest.mark.django_db


def test_queue_links_to_batch_review_and_proposals_are_listed(client, wave, first_reviewer):
    client.force_login(first_reviewer)
    assert "/batch/" in client.get("/queues/first/").content.decode()
    page = client.get("/batch/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Create group" in html and all(a.reference in html for a in wave)


def test_recommend_with_exclusions_then_confirm_on_the_pages(client, wave, first_reviewer, second_reviewer):
    client.force_login(first_reviewer)
    created = client.post("/batch/create/", {"references": [a.reference for a in wave]})
    group = BatchGroup.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/batch/{group.pk}/"
    detail = client.get(f"/batch/{group.pk}/").content.decode()
    assert 'form="recommend-form"' in detail and 'name="outcome_code"' in detail

    client.post(f"/batch/{group.pk}/recommend/", {"recommendation": "approve", "outcome_code": "restored",
                                                  "comment": "平台误封", "selected": [wave[0].reference]})
    group.refresh_from_db()
    assert group.state == GroupState.RECOMMENDING
    running = client.get(f"/batch/{group.pk}/").content.decode()
    assert 'http-equiv="refresh"' in running and "<progress" in running
    services.batch_run(group_id=group.pk)
    # The recommender is told someone else confirms; no confirm button for them.
    own = client.get(f"/batch/{group.pk}/").content.decode()
    assert "batch-confirm" not in own and f"/batch/{group.pk}/confirm/" not in own

    client.force_login(second_reviewer)
    page = client.get(f"/batch/{group.pk}/").content.decode()
    assert f"/batch/{group.pk}/confirm/" in page and 'form="split-form"' in page
    client.post(f"/batch/{group.pk}/split/", {"selected": [wave[1].reference], "comment": "单独核查"})
    assert group.members.get(appeal=wave[1]).status == MemberStatus.SPLIT
    client.post(f"/batch/{group.pk}/confirm/")
    services.batch_run(group_id=group.pk)
    assert {a.state for a in Appeal.objects.filter(pk__in=[a.pk for a in wave[2:]])} == {AppealState.APPROVED}
    assert Appeal.objects.get(pk=wave[0].pk).state == AppealState.FIRST_REVIEW
    assert Appeal.objects.get(pk=wave[1].pk).state == AppealState.SECOND_REVIEW


def test_refusals_are_shown_not_raised(client, wave, first_reviewer):
    client.force_login(first_reviewer)
    group = services.batch_group_create(by=first_reviewer, references=[a.reference for a in wave])
    response = client.post(f"/batch/{group.pk}/recommend/", {"recommendation": "approve", "outcome_code": "", "comment": ""},
                           follow=True)
    assert response.status_code == 200
    assert "Give the reasons for the whole group in one comment." in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_in_both_languages(client, wave, first_reviewer, language):
    client.force_login(first_reviewer)
    group = services.batch_group_create(by=first_reviewer, references=[a.reference for a in wave])
    for url in ("/batch/", f"/batch/{group.pk}/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200
        assert page.headers["Content-Language"].lower() == language


def test_enterprise_admin_gets_nothing(client, wave, first_reviewer, enterprise_admin):
    group = services.batch_group_create(by=first_reviewer, references=[a.reference for a in wave])
    client.force_login(enterprise_admin)
    for url in ("/batch/", f"/batch/{group.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/batch/{group.pk}/confirm/").status_code == 403
    assert "/batch/" not in client.get("/dashboard/").content.decode()
