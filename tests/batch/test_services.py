"""Batch review against the real workflow: every case moves on its own (transition, timeline,
audit, SLA stop, notice), separation of duties holds per case, exclusions, split, changed cases."""

from datetime import timedelta

import pytest

from appeals.audit.models import AuditEvent
from appeals.batch import selectors, services
from appeals.batch.grouping import Case, group_alike, jaccard
from appeals.batch.models import GroupState, MemberStatus
from appeals.core.models import Appeal, AppealEvent, AppealState
from appeals.core.services import appeals as appeal_services
from appeals.notifications.models import Message
from appeals.shared.exceptions import GuardFailed, PermissionDenied, ValidationFailed
from appeals.sla.models import AppealSla
from tests.batch.conftest import alike_wave

pytestmark = pytest.mark.django_db


def _refs(appeals):
    return [a.reference for a in appeals]


def _group(wave, by):
    return services.batch_group_create(by=by, references=_refs(wave))


def _recommended(wave, by, *, exclude=(), recommendation="approve", code="restored"):
    group = _group(wave, by)
    services.batch_recommend(by=by, group=group, recommendation=recommendation, outcome_code=code,
                             comment="误封：同一批次的平台错误封禁。", exclude=list(exclude))
    return services.batch_run(group_id=group.pk)


def test_proposal_groups_the_alike_wave_and_leaves_others(wave, first_reviewer, enterprise):
    other_kind = alike_wave(2, enterprises=[enterprise], kind="permanent_ban")
    proposals = selectors.batch_proposals(user=first_reviewer)
    by_kind = {p.kind: p for p in proposals}
    assert sorted(by_kind["short_ban"].references) == sorted(_refs(wave))
    assert by_kind["short_ban"].enterprises == 2
    assert sorted(by_kind["permanent_ban"].references) == sorted(_refs(other_kind))
    # Once grouped, the cases are no longer proposed.
    _group(wave, first_reviewer)
    assert [p.kind for p in selectors.batch_proposals(user=first_reviewer)] == ["permanent_ban"]


def test_grouping_rule_window_and_risk_picture():
    from django.utils import timezone

    t0 = timezone.now()
    cases = [Case(1, "short_ban", "spam", t0, frozenset({"mass_adding"})),
             Case(2, "short_ban", " SPAM ", t0 + timedelta(minutes=3), frozenset({"mass_adding"})),
             Case(3, "short_ban", "spam", t0 + timedelta(minutes=4), frozenset({"location_anomaly"})),
             Case(4, "short_ban", "spam", t0 + timedelta(minutes=5), frozenset({"location_anomaly"})),
             Case(5, "short_ban", "spam", t0 + timedelta(minutes=30), frozenset({"mass_adding"}))]
    clusters = group_alike(cases, window=timedelta(minutes=10), jaccard_min=0.5, min_size=2, max_size=100)
    assert sorted(sorted(c.id for c in cl.cases) for cl in clusters) == [[1, 2], [3, 4]]
    assert jaccard(frozenset(), frozenset()) == 1.0
    assert jaccard(frozenset({"a", "b"}), frozenset({"a"})) == 0.5


def test_group_recommended_and_confirmed_each_case_moves_on_its_own(wave, first_reviewer, second_reviewer):
    group = _recommended(wave, first_reviewer)
    assert group.state == GroupState.RECOMMENDED
    assert {a.state for a in Appeal.objects.filter(pk__in=[a.pk for a in wave])} == {AppealState.SECOND_REVIEW}

    services.batch_confirm(by=second_reviewer, group=group)
    group = services.batch_run(group_id=group.pk)
    assert group.state == GroupState.DONE
    assert selectors.batch_progress(group=group)["done"] == len(wave)
    for appeal in Appeal.objects.filter(pk__in=[a.pk for a in wave]):
        assert appeal.state == AppealState.APPROVED
        assert appeal.outcome_code == "restored" and appeal.decision_reason_en
        assert appeal.first_reviewer == first_reviewer and appeal.second_reviewer == second_reviewer
        events = list(AppealEvent.objects.filter(appeal=appeal).values_list("action", "actor_id"))
        assert ("recommend_approve", first_reviewer.pk) in events
        assert ("approve", second_reviewer.pk) in events
        approve = AppealEvent.objects.get(appeal=appeal, action="approve")
        assert approve.comment == "误封：同一批次的平台错误封禁。" and approve.data["batch_group"] == group.pk
        assert AuditEvent.objects.filter(target_type="appeals.appeal", target_id=appeal.reference,
                                         action="appeal.approve", enterprise_id=appeal.enterprise_id).count() == 1
        assert AppealSla.objects.get(appeal=appeal).closed_at is not None
        assert Message.objects.filter(appeal=appeal, template="appeal_decided").count() == 1
    assert AuditEvent.objects.filter(target_type="appeals.batchgroup", target_id=str(group.pk),
                                     action__in=["batch.create", "batch.recommend", "batch.confirm"]).count() == 3


def test_the_recommender_cannot_confirm_their_own_group(wave, first_reviewer):
    group = _recommended(wave, first_reviewer)
    with pytest.raises(GuardFailed) as exc:
        services.batch_confirm(by=first_reviewer, group=group)
    assert exc.value.code == "separation_of_duties" and exc.value.status == 409
    with pytest.raises(GuardFailed):
        services.batch_split(by=first_reviewer, group=group, references=[wave[0].reference])


def test_separation_of_duties_per_case_over_the_history(wave, first_reviewer, second_reviewer, third_reviewer, manager):
    """The confirmer recommended one member earlier (returned to first review, then reassigned):
    that member is refused and skipped, every other member is decided."""
    tricky = wave[0]
    appeal_services.appeal_claim(appeal=tricky, by=second_reviewer)
    appeal_services.appeal_first_review(appeal=tricky, by=second_reviewer, decision="approve")
    tricky.refresh_from_db()
    appeal_services.appeal_claim(appeal=tricky, by=third_reviewer)
    appeal_services.appeal_second_review(appeal=tricky, by=third_reviewer, decision="return", comment="请补充核对。")
    tricky.refresh_from_db()
    appeal_services.appeal_reassign(appeal=tricky, by=manager, assignee=first_reviewer)
    tricky.refresh_from_db()
    assert tricky.state == AppealState.FIRST_REVIEW and tricky.first_reviewer == first_reviewer

    group = _recommended(wave, first_reviewer)
    assert group.members.filter(status=MemberStatus.RECOMMENDED).count() == len(wave)
    services.batch_confirm(by=second_reviewer, group=group)
    group = services.batch_run(group_id=group.pk)

    member = group.members.get(appeal=tricky)
    assert member.status == MemberStatus.SKIPPED and member.note_code == "separation_of_duties"
    tricky.refresh_from_db()
    assert tricky.state == AppealState.SECOND_REVIEW and tricky.second_reviewer is None
    others = Appeal.objects.filter(pk__in=[a.pk for a in wave[1:]])
    assert {a.state for a in others} == {AppealState.APPROVED}
    assert group.job_skipped == 1 and group.job_done == len(wave) - 1


def test_exclusions_stay_in_individual_first_review(wave, first_reviewer, second_reviewer):
    excluded = wave[:2]
    group = _recommended(wave, first_reviewer, exclude=_refs(excluded))
    for appeal in excluded:
        appeal.refresh_from_db()
        assert appeal.state == AppealState.FIRST_REVIEW and appeal.first_reviewer is None
        assert group.members.get(appeal=appeal).status == MemberStatus.EXCLUDED
    assert group.job_total == len(wave) - 2
    with pytest.raises(GuardFailed) as exc:
        services.batch_recommend(by=first_reviewer, group=group, recommendation="approve", outcome_code="restored",
                                 comment="x")
    assert exc.value.code == "group_state"


def test_split_sends_cases_back_to_individual_second_review(wave, first_reviewer, second_reviewer):
    group = _recommended(wave, first_reviewer, recommendation="reject", code="refused_violation_confirmed")
    split = wave[:2]
    services.batch_split(by=second_reviewer, group=group, references=_refs(split), comment="需单独核查")
    services.batch_confirm(by=second_reviewer, group=group)
    group = services.batch_run(group_id=group.pk)
    for appeal in split:
        appeal.refresh_from_db()
        assert appeal.state == AppealState.SECOND_REVIEW and appeal.second_reviewer is None
        assert group.members.get(appeal=appeal).status == MemberStatus.SPLIT
    rest = Appeal.objects.filter(pk__in=[a.pk for a in wave[2:]])
    assert {(a.state, a.outcome_code) for a in rest} == {(AppealState.REJECTED, "refused_violation_confirmed")}


def test_cases_changed_meanwhile_are_skipped_not_failed(wave, first_reviewer, second_reviewer):
    group = _group(wave, first_reviewer)
    withdrawn, claimed = wave[0], wave[1]
    appeal_services.appeal_withdraw(appeal=withdrawn, by=withdrawn.filed_by)
    appeal_services.appeal_claim(appeal=claimed, by=second_reviewer)
    services.batch_recommend(by=first_reviewer, group=group, recommendation="approve", outcome_code="restored",
                             comment="误封")
    group = services.batch_run(group_id=group.pk)
    assert group.members.get(appeal=withdrawn).status == MemberStatus.SKIPPED
    assert group.members.get(appeal=claimed).note_code == "changed"
    assert group.job_done == len(wave) - 2 and group.job_skipped == 2
    # A redelivered run changes nothing.
    assert services.batch_run(group_id=group.pk).job_done == len(wave) - 2


def test_outcome_code_must_match_the_recommendation(wave, first_reviewer):
    group = _group(wave, first_reviewer)
    with pytest.raises(ValidationFailed) as exc:
        services.batch_recommend(by=first_reviewer, group=group, recommendation="approve",
                                 outcome_code="refused_violation_confirmed", comment="x")
    assert "outcome_code" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.batch_recommend(by=first_reviewer, group=group, recommendation="approve", outcome_code="restored", comment=" ")
    assert "comment" in exc.value.fields


def test_a_case_is_in_one_open_group_and_groups_hold_alike_cases(wave, first_reviewer, enterprise):
    _group(wave[:3], first_reviewer)
    with pytest.raises(GuardFailed) as exc:
        _group(wave[2:], first_reviewer)
    assert exc.value.code == "already_grouped"
    unlike = alike_wave(1, enterprises=[enterprise], kind="permanent_ban")
    with pytest.raises(ValidationFailed) as exc:
        services.batch_group_create(by=first_reviewer, references=_refs(wave[3:]) + _refs(unlike))
    assert exc.value.code == "not_alike"


def test_enterprise_admin_sees_and_does_nothing(wave, first_reviewer, enterprise_admin):
    group = _group(wave, first_reviewer)
    assert selectors.batch_proposals(user=enterprise_admin) == []
    assert not selectors.groups_for(enterprise_admin).exists()
    with pytest.raises(PermissionDenied):
        services.batch_group_create(by=enterprise_admin, references=_refs(wave))
    with pytest.raises(PermissionDenied):
        services.batch_recommend(by=enterprise_admin, group=group, recommendation="approve", outcome_code="restored", comment="x")


def test_sweep_republishes_only_stalled_runs(wave, first_reviewer, settings):
    from django.utils import timezone

    group = _group(wave, first_reviewer)
    services.batch_recommend(by=first_reviewer, group=group, recommendation="approve", outcome_code="restored", comment="误封")
    now = timezone.now()
    assert services.batch_sweep(now=now) == []
    from config.celery import app

    app.conf.task_always_eager = True  # the re-published run executes here, in this process
    try:
        assert services.batch_sweep(now=now + timedelta(seconds=settings.BATCH["STALE_SECONDS"] + 1)) == [group.pk]
    finally:
        app.conf.task_always_eager = False
    group.refresh_from_db()
    assert group.state == GroupState.RECOMMENDED and group.job_done == len(wave)


def test_the_group_links_the_surge_alert_that_covers_the_wave(wave, first_reviewer):
    from django.utils import timezone

    from appeals.surge.models import SurgeAlert

    first = min(a.submitted_at for a in wave)
    alert = SurgeAlert.objects.create(dimension="kind", value="short_ban", window_minutes=10,
                                      window_start=first - timedelta(minutes=10), count=40, usual=2.0, ratio=20.0,
                                      floor=20, factor=3.0, opened_at=timezone.now())
    SurgeAlert.objects.create(dimension="kind", value="permanent_ban", window_minutes=10, window_start=first, count=40,
                              usual=2.0, floor=20, factor=3.0, opened_at=timezone.now())
    [proposal] = selectors.batch_proposals(user=first_reviewer)
    assert proposal.surge_alert == alert
    assert _group(wave, first_reviewer).surge_alert == alert
