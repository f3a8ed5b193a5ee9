"""Issue 10 item 6: no log analysis lost to a deadlock (real PostgreSQL, two connections).

The analysis writes its result in one transaction: the appeal row first, then its own rows,
the audit chain lock last (the order documented in appeals.audit.services). A transaction
that takes the locks the other way round deadlocks with it; PostgreSQL aborts one of the
two, and the analysis runs its write step again instead of staying `running` for ever.
"""

import logging
import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections, transaction

from appeals.audit.services import audit_record
from appeals.core import workflow
from appeals.core.services import appeals as appeal_services
from appeals.evidence import services as svc
from appeals.evidence import tasks
from appeals.models import AnalysisStatus, Appeal, AppealState, LogAnalysis, RiskFlag
from appeals.shared.db import is_lock_conflict, retry_on_lock_conflict
from tests import builders
from tests.conftest import wait_for
from tests.evidence import files

pytestmark = pytest.mark.django_db(transaction=True)


def _flagged_log() -> bytes:
    t0 = datetime(2026, 11, 20, 9, 0, 0)
    rows = [f"{t0 + timedelta(seconds=20 * i):%Y-%m-%d %H:%M:%S},wx-sales,operations,add_friend,u{i},你好,10.0.0.1,dev-1"
            for i in range(60)]
    rows.append(f"{t0:%Y-%m-%d %H:%M:%S},wx-cs,customer_service,export_data,all,,10.0.0.3,dev-3")
    return files.log_csv(rows).encode()


def _upload_log(appeal, by):
    return svc.evidence_upload(appeal=appeal, by=by, kind="operation_log", file=files.upload("log.csv", _flagged_log()))


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_event(pid: int) -> tuple[str | None, str | None]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, None)


def _run(results: dict, key: str, func, *args):
    try:
        results[key] = func(*args)
    except Exception as exc:  # recorded for the assertions
        results[key] = exc
    finally:
        connections.close_all()


def _assert_done_with_flags(item):
    analysis = LogAnalysis.objects.get(evidence=item)
    assert analysis.status == AnalysisStatus.DONE, (analysis.status, analysis.error)
    assert analysis.rows_total == 61
    assert sorted(RiskFlag.objects.filter(evidence=item).values_list("rule", flat=True)) == ["mass_add", "permission"]


def test_an_analysis_chosen_as_deadlock_victim_runs_again_and_ends_done(draft_appeal, enterprise_admin):
    appeal = draft_appeal
    item = _upload_log(appeal, enterprise_admin)
    if builders.worker_delivers():
        # The session's worker took the upload's analysis: let it finish, then stage the race anew.
        wait_for(lambda: LogAnalysis.objects.get(evidence=item).status in (AnalysisStatus.DONE, AnalysisStatus.FAILED),
                 timeout=30)
    RiskFlag.objects.filter(evidence=item).delete()
    LogAnalysis.objects.filter(evidence=item).update(status=AnalysisStatus.PENDING)
    results, pids = {}, {}
    chain_held = threading.Event()
    retried = _retry_messages()

    @retry_on_lock_conflict
    def chain_then_row():
        """The wrong order: the audit chain lock, then the appeal row."""
        with transaction.atomic(durable=True):
            audit_record(actor=None, action="test.chain_first", target_type="appeals.appeal", target_id=appeal.reference)
            if not chain_held.is_set():
                chain_held.set()
                # Until the analysis, holding the appeal row (or its key share), waits for the chain.
                # (any heavyweight lock: the chain's advisory lock, or the row's key share behind it)
                wait_for(lambda: "pid" in pids and (_wait_event(pids["pid"]) or ("",))[0] == "Lock", timeout=20, interval=0.02)
            Appeal.objects.select_for_update().get(pk=appeal.pk)
        return "committed"

    def analyse():
        pids["pid"] = _backend_pid()
        assert chain_held.wait(20)
        return tasks.analyse_operation_log(item.pk)

    threads = [threading.Thread(target=_run, args=(results, "writer", chain_then_row)),
               threading.Thread(target=_run, args=(results, "analysis", analyse))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)

    assert results == {"writer": "committed", "analysis": AnalysisStatus.DONE}, results
    _assert_done_with_flags(item)
    # A deadlock really happened, and was retried rather than fatal (read from the retrying
    # logger itself: an earlier test may have reconfigured logging, which caplog relies on).
    assert any("deadlock detected" in message for message in retried), retried


def _retry_messages() -> list[str]:
    """Messages appeals.shared.db logs from now until the test ends (a handler on that logger)."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    db_logger = logging.getLogger("appeals.shared.db")
    handler = Keep(level=logging.WARNING)
    db_logger.addHandler(handler)
    db_logger.disabled = False
    db_logger.setLevel(logging.WARNING)
    _handlers_to_remove.append((db_logger, handler))
    return messages


_handlers_to_remove: list = []


@pytest.fixture(autouse=True)
def _drop_retry_handlers():
    yield
    while _handlers_to_remove:
        logger, handler = _handlers_to_remove.pop()
        logger.removeHandler(handler)


def _advisory_locks_held(pid: int) -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND granted", [pid])
        return cursor.fetchone()[0]


def test_a_submit_and_an_analysis_racing_both_finish(complete_draft, enterprise_admin):
    """The race of the issue. The submit locks the appeal row, then (in audit_record) the audit
    chain; it is paused in between by a guard. The analysis used to take the chain lock first
    and the appeal row only at commit (the deferred foreign-key check of its risk flags takes
    a key-share lock on the appeal): each then waited for the other, PostgreSQL killed the
    analysis and it stayed `running`. Now the analysis asks for the appeal row first and waits,
    holding nothing the submit needs."""
    appeal = complete_draft
    item = _upload_log(appeal, enterprise_admin)
    LogAnalysis.objects.filter(evidence=item).update(status=AnalysisStatus.PENDING)
    results, pids = {}, {}
    in_submit, release = threading.Event(), threading.Event()

    def pause(locked, by, data):
        if locked.pk == appeal.pk:
            in_submit.set()
            assert release.wait(30)

    def analyse():
        pids["pid"] = _backend_pid()
        assert in_submit.wait(20)
        return tasks.analyse_operation_log(item.pk)

    workflow.register_guard(workflow.Action.SUBMIT, pause)
    try:
        threads = [threading.Thread(target=_run, args=(results, "submit", lambda: appeal_services.appeal_submit(
                       appeal=Appeal.objects.get(pk=appeal.pk), by=enterprise_admin).state)),
                   threading.Thread(target=_run, args=(results, "analysis", analyse))]
        for t in threads:
            t.start()
        waiting = wait_for(lambda: "pid" in pids and _wait_event(pids["pid"])[0] == "Lock" and _wait_event(pids["pid"]), timeout=20,
                           interval=0.02)
        # Waiting for the appeal row, and not holding the audit chain meanwhile.
        assert waiting[1] in ("transactionid", "tuple"), waiting
        held = _advisory_locks_held(pids["pid"])
        release.set()
        for t in threads:
            t.join(60)
    finally:
        release.set()
        workflow._guards[workflow.Action.SUBMIT].remove(pause)
    assert not any(t.is_alive() for t in threads)
    assert results == {"submit": AppealState.SUBMITTED, "analysis": AnalysisStatus.DONE}, results
    assert held == 0
    _assert_done_with_flags(item)


def test_lock_conflicts_are_recognised_by_their_sqlstate():
    class Driver(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    def wrapped(sqlstate):
        try:
            try:
                raise Driver(sqlstate)
            except Driver as inner:
                raise RuntimeError("django's wrapper") from inner
        except RuntimeError as exc:
            return exc

    assert is_lock_conflict(wrapped("40P01")) and is_lock_conflict(wrapped("40001"))
    assert not is_lock_conflict(wrapped("23505"))
