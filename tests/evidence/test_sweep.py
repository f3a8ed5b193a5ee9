"""Work a dead worker stranded (display copies pending, log analyses pending or running) is
found by the evidence sweep and run again by a real worker, once per hold period."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from appeals.evidence import services as svc
from appeals.models import AnalysisStatus, DerivedStatus, EvidenceItem, LogAnalysis, RiskFlag
from tests.conftest import wait_for
from tests.evidence import files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _forget_holds(*items):
    """The sweep's per-item hold (a cache key) from an earlier test with the same ids."""
    cache.delete_many([f"evidence-sweep:{task}:{item.pk}" for item in items for task in (svc.DERIVE_TASK, svc.ANALYSE_TASK)])


def _log_rows():
    return [f"2026-11-20 09:{i // 3:02d}:{(i % 3) * 20:02d},wx-sales,operations,add_friend,u{i},hi,10.0.0.1,dev-1"
            for i in range(60)]


def test_sweep_reruns_display_copies_and_analyses_a_dead_worker_left_behind(celery_worker, draft_appeal, enterprise_admin, settings):
    image = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="ban_notice",
                                file=files.upload("n.jpg", files.jpeg_with_orientation(size=(400, 200), orientation=1)))
    log = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                              file=files.upload("log.csv", files.log_csv(_log_rows()).encode()))
    wait_for(lambda: EvidenceItem.objects.filter(pk=image.pk, derived_status=DerivedStatus.READY).exists(), timeout=30)
    wait_for(lambda: LogAnalysis.objects.filter(evidence=log, status=AnalysisStatus.DONE).exists(), timeout=30)
    _forget_holds(image, log)

    # What a SIGKILLed worker leaves: the copy never made, the analysis caught mid-run.
    after = settings.EVIDENCE["SWEEP_AFTER_SECONDS"]
    long_ago = timezone.now() - timedelta(seconds=after + 60)
    EvidenceItem.objects.filter(pk=image.pk).update(derived_status=DerivedStatus.PENDING, thumbnail_name="", preview_name="",
                                                    uploaded_at=long_ago)
    LogAnalysis.objects.filter(evidence=log).update(status=AnalysisStatus.RUNNING, started_at=long_ago, finished_at=None)
    RiskFlag.objects.filter(evidence=log).delete()
    # Recent work is not touched: its worker may still be on it.
    fresh = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="other",
                                file=files.upload("o.jpg", files.jpeg_with_orientation(size=(300, 300), orientation=1)))
    wait_for(lambda: EvidenceItem.objects.filter(pk=fresh.pk, derived_status=DerivedStatus.READY).exists(), timeout=30)
    _forget_holds(fresh)
    EvidenceItem.objects.filter(pk=fresh.pk).update(derived_status=DerivedStatus.PENDING)

    assert svc.evidence_sweep_stranded() == {"display_copies": 1, "log_analyses": 1, "given_up": 0}
    # The next sweep within the hold period does not publish them again.
    assert svc.evidence_sweep_stranded() == {"display_copies": 0, "log_analyses": 0, "given_up": 0}

    image = wait_for(lambda: EvidenceItem.objects.filter(pk=image.pk, derived_status=DerivedStatus.READY).first(), timeout=30)
    assert image.thumbnail_name and image.preview_name
    analysis = wait_for(lambda: LogAnalysis.objects.filter(evidence=log, status=AnalysisStatus.DONE).first(), timeout=30)
    assert analysis.finished_at > long_ago
    assert RiskFlag.objects.filter(evidence=log, rule="mass_add").count() == 1  # once, not doubled
    assert EvidenceItem.objects.get(pk=fresh.pk).derived_status == DerivedStatus.PENDING


def test_pending_analysis_whose_task_was_never_published_is_queued(celery_worker, draft_appeal, enterprise_admin, settings):
    log = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                              file=files.upload("log.csv", files.log_csv(_log_rows()).encode()))
    wait_for(lambda: LogAnalysis.objects.filter(evidence=log, status=AnalysisStatus.DONE).exists(), timeout=30)
    _forget_holds(log)
    long_ago = timezone.now() - timedelta(seconds=settings.EVIDENCE["SWEEP_AFTER_SECONDS"] + 1)
    EvidenceItem.objects.filter(pk=log.pk).update(uploaded_at=long_ago)
    LogAnalysis.objects.filter(evidence=log).update(status=AnalysisStatus.PENDING, started_at=None, finished_at=None)

    from appeals.evidence.tasks import sweep_stranded

    sweep_stranded.delay()  # the beat entry's task, run by the worker
    wait_for(lambda: LogAnalysis.objects.filter(evidence=log, status=AnalysisStatus.DONE).exists(), timeout=30)


@pytest.mark.django_db
def test_an_item_that_keeps_stranding_its_worker_is_failed_not_queued_forever(draft_appeal, enterprise_admin, settings):
    """A log whose analysis is killed every time (time limit, memory) is given up after
    SWEEP_MAX_REQUEUES re-queues: failed, with the reason, and audited."""
    from appeals.models import AuditEvent

    settings.EVIDENCE = {**settings.EVIDENCE, "SWEEP_MAX_REQUEUES": 2}
    log = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                              file=files.upload("log.csv", files.log_csv(_log_rows()).encode()))
    svc.evidence_analyse_log(item_id=log.pk)
    after = settings.EVIDENCE["SWEEP_AFTER_SECONDS"]
    for sweep in range(3):
        _forget_holds(log)
        long_ago = timezone.now() - timedelta(seconds=after + 60)
        # The worker that took it died again mid-run.
        LogAnalysis.objects.filter(evidence=log).update(status=AnalysisStatus.RUNNING, started_at=long_ago, finished_at=None)
        counts = svc.evidence_sweep_stranded()
        if sweep < 2:
            assert counts["log_analyses"] == 1 and counts["given_up"] == 0, counts
            assert LogAnalysis.objects.get(evidence=log).requeues == sweep + 1
    assert counts == {"display_copies": 0, "log_analyses": 0, "given_up": 1}
    analysis = LogAnalysis.objects.get(evidence=log)
    assert analysis.status == AnalysisStatus.FAILED and "2 attempts" in analysis.error
    assert AuditEvent.objects.filter(action="evidence.analyse_log", after__status="failed").exists()


@pytest.mark.django_db
def test_an_analysis_that_crashes_is_recorded_failed_not_left_running(draft_appeal, enterprise_admin, settings):
    """Any error inside the analysis (not only an unreadable file) ends it as failed."""
    log = svc.evidence_upload(appeal=draft_appeal, by=enterprise_admin, kind="operation_log",
                              file=files.upload("log.csv", files.log_csv(_log_rows()).encode()))
    settings.EVIDENCE_LOG_RULES = None  # the rule set is unusable: the analysis raises
    analysis = svc.evidence_analyse_log(item_id=log.pk)
    assert analysis.status == AnalysisStatus.FAILED and analysis.error.startswith("the analysis failed:")
    assert LogAnalysis.objects.get(evidence=log).status == AnalysisStatus.FAILED
