"""The audit hash chain: append-only on PostgreSQL, tamper-evident, fork-free under concurrency."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from appeals.audit.services import audit_record, audit_verify_chain
from appeals.models import AuditEvent

pytestmark = pytest.mark.django_db


def _write(n, actor=None):
    return [audit_record(actor=actor, action="test.write", target_type="test", target_id=i, after={"i": i}) for i in range(n)]


def test_chain_links_each_row_to_the_previous(manager):
    events = _write(3, manager)
    assert [e.position for e in events] == [events[0].position, events[0].position + 1, events[0].position + 2]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert str(audit_verify_chain()).startswith("intact, ")


def test_verify_audit_command_reports_intact(manager, capsys):
    _write(4, manager)
    call_command("verify_audit")
    assert f"intact, {AuditEvent.objects.count()} events" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE appeals_auditevent SET action = 'forged'",
        "DELETE FROM appeals_auditevent",
        "TRUNCATE appeals_auditevent",
    ],
)
def test_postgresql_refuses_changes_to_the_log(sql, manager):
    _write(2, manager)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # so TRUNCATE meets the trigger, not pending FK checks
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(action="test.write").count() == 2


def _tamper(sql, params):
    """Change a row behind the trigger's back, as someone with the table owner's rights could."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks so ALTER may run
        cursor.execute("ALTER TABLE appeals_auditevent DISABLE TRIGGER audit_no_update_delete")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE appeals_auditevent ENABLE TRIGGER audit_no_update_delete")


def test_altered_row_is_named_by_verify_audit(manager):
    events = _write(5, manager)
    victim = events[2]
    _tamper("UPDATE appeals_auditevent SET after = %s WHERE id = %s", ['{"i": 99}', victim.pk])
    report = audit_verify_chain()
    assert not report.intact
    assert report.broken_position == victim.position and report.broken_id == victim.pk
    assert "altered" in report.reason
    with pytest.raises(CommandError, match=f"position {victim.position}"):
        call_command("verify_audit")


def test_rehashed_row_still_breaks_the_next_link(manager):
    """A forger who recomputes the altered row's own hash is caught by the next row's prev_hash."""
    events = _write(4, manager)
    victim = events[1]
    victim.after = {"i": 42}
    new_hash = victim.compute_hash()
    _tamper("UPDATE appeals_auditevent SET after = %s, hash = %s WHERE id = %s", ['{"i": 42}', new_hash, victim.pk])
    report = audit_verify_chain()
    assert report.broken_position == events[2].position
    assert "prev_hash" in report.reason


def test_deleted_row_is_detected(manager):
    events = _write(4, manager)
    _tamper("DELETE FROM appeals_auditevent WHERE id = %s", [events[1].pk])
    report = audit_verify_chain()
    assert report.broken_position == events[2].position and "missing" in report.reason


def test_transition_is_audited_with_ip(client, enterprise_admin, complete_draft):
    draft_appeal = complete_draft
    from appeals.core.services.appeals import appeal_submit
    from appeals.shared.context import request_ip

    token = request_ip.set("203.0.113.7")
    try:
        appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    finally:
        request_ip.reset(token)
    event = AuditEvent.objects.get(action="appeal.submit", target_id=draft_appeal.reference)
    assert event.actor == enterprise_admin and event.ip == "203.0.113.7"
    assert event.before == {"state": "draft"} and event.after["state"] == "submitted"
    assert event.enterprise_id == draft_appeal.enterprise_id


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    writers, per_writer = 6, 15
    barrier = threading.Barrier(writers)
    errors = []

    def work(w):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", target_type="test", target_id=f"{w}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    positions = list(AuditEvent.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, writers * per_writer + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == writers * per_writer
    report = audit_verify_chain()
    assert report.intact and report.count == writers * per_writer
