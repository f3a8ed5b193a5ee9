"""Backups and restores on the real PostgreSQL, a local folder and the local S3 server (moto):
seed, back up, restore into an empty scratch database, verify; a tampered snapshot fails."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from appeals.audit.models import AuditEvent
from appeals.evidence import services as evidence_services
from appeals.models import Appeal, EvidenceItem, Message, RecordsRun
from appeals.records import backup, runs, tasks
from appeals.shared import registry
from tests.records.conftest import BUCKET, count_rows, db_exists, scratch_name

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def seeded(submitted_appeal, enterprise_admin):
    """A submitted case (its evidence, verification messages, audit trail), one item with display copies."""
    item = EvidenceItem.objects.filter(appeal=submitted_appeal, kind="ban_notice").first()
    evidence_services.evidence_derive_display_copies(item_id=item.pk)
    return submitted_appeal


def _only_snapshot(folder: Path) -> Path:
    found = [p for p in folder.iterdir() if p.name.startswith("snapshot-")]
    assert len(found) == 1, found
    return found[0]


def test_round_trip_local_and_s3_nothing_lost_chain_intact(seeded, tmp_path, backup_s3, scratch_db):
    local = tmp_path / "backups"
    call_command("backup", str(local), f"s3://{BUCKET}/desk", stdout=open(os.devnull, "w"))
    snap = _only_snapshot(local)
    manifest = json.loads((snap / "manifest.json").read_text())

    # The manifest: the dump's hash, every evidence object's hash, the chain head.
    assert manifest["database"]["sha256"] == sha256(snap / "db.dump")
    head = AuditEvent.objects.order_by("-position").first()
    assert manifest["audit_head"] == {"id": head.pk, "position": head.position, "hash": head.hash}
    originals = {f["name"]: f for f in manifest["files"] if f["role"] == "original"}
    items = list(EvidenceItem.objects.all())
    assert len(items) >= 4 and set(originals) == {i.storage_name for i in items}
    for item in items:
        assert originals[item.storage_name]["sha256"] == item.sha256 == sha256(snap / originals[item.storage_name]["path"])
    assert {f["role"] for f in manifest["files"]} == {"original", "thumbnail", "preview"}
    assert manifest["counts"]["appeals.appeal"] == Appeal.objects.count()
    assert manifest["counts"]["appeals.auditevent"] == AuditEvent.objects.count()

    # The same snapshot in the bucket, manifest included.
    keys = {o["Key"] for o in backup_s3.list_objects_v2(Bucket=BUCKET, Prefix=f"desk/{snap.name}/")["Contents"]}
    assert f"desk/{snap.name}/manifest.json" in keys and f"desk/{snap.name}/db.dump" in keys
    assert len(keys) == len(manifest["files"]) + 2
    assert backup.snapshots_in(f"s3://{BUCKET}/desk") == [f"s3://{BUCKET}/desk/{snap.name}"]

    # Restore each copy into an empty database and an empty storage.
    for source, suffix in ((str(snap), "rt_local"), (f"s3://{BUCKET}/desk/{snap.name}", "rt_s3")):
        dbname = scratch_db(suffix)
        media = tmp_path / f"media-{suffix}"
        result = backup.snapshot_restore(source, database=dbname, storage=FileSystemStorage(location=media))
        assert result.ok, result.problems
        assert result.audit == f"intact, {AuditEvent.objects.count()} events"
        assert result.evidence == f"{len(items)} of {len(items)} files verified"
        for table, live in (("appeals_appeal", Appeal.objects.count()), ("appeals_evidenceitem", len(items)),
                            ("appeals_auditevent", AuditEvent.objects.count()), ("appeals_message", Message.objects.count())):
            assert count_rows(dbname, table) == live, table
        for item in items:
            assert sha256(media / item.storage_name) == item.sha256
        # the append-only trigger came back with the schema
        with pytest.raises(Exception, match="append-only"):
            import psycopg

            with psycopg.connect(dbname=dbname, host="127.0.0.1", user=settings.DATABASES["default"].get("USER") or "postgres") as c:
                c.execute("DELETE FROM appeals_auditevent")


def test_a_tampered_file_in_the_snapshot_fails_the_restore(seeded, tmp_path, scratch_db):
    local = tmp_path / "backups"
    result = backup.snapshot_create([str(local)])
    assert result.ok
    snap = _only_snapshot(local)
    manifest = json.loads((snap / "manifest.json").read_text())
    victim = next(f for f in manifest["files"] if f["role"] == "original")
    (snap / victim["path"]).write_bytes(b"\xff\xd8\xff tampered")

    restored = backup.snapshot_restore(str(snap), database=scratch_db("tamper"), storage=FileSystemStorage(location=tmp_path / "m"))
    assert not restored.ok
    assert any(p.startswith(f"TAMPERED {victim['path']}") for p in restored.problems)
    assert any(p.startswith("MISSING") and victim["name"] in p for p in restored.problems)  # verify_evidence
    assert restored.audit.startswith("intact")


def test_a_damaged_dump_is_refused(seeded, tmp_path, scratch_db):
    backup.snapshot_create([str(tmp_path)])
    snap = _only_snapshot(tmp_path)
    with open(snap / "db.dump", "ab") as fp:
        fp.write(b"x")
    with pytest.raises(backup.RestoreError, match="does not match"):
        backup.snapshot_restore(str(snap), database=scratch_db("damaged"), storage=FileSystemStorage(location=tmp_path / "m"))


def test_restore_refuses_a_database_that_is_not_empty(seeded, tmp_path):
    backup.snapshot_create([str(tmp_path)])
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(_only_snapshot(tmp_path)))
    assert Appeal.objects.filter(pk=seeded.pk).exists()


def test_manage_py_restore_into_an_empty_configured_database_runs_both_verifications(seeded, tmp_path, scratch_db):
    """The operator's path: `manage.py restore SNAPSHOT` in a process whose configured database is
    the empty one (the test settings take its name from TEST_WORKER_DATABASE_NAME)."""
    backup.snapshot_create([str(tmp_path / "b")])
    snap = _only_snapshot(tmp_path / "b")
    dbname = scratch_db("cmd")
    media_key = f"{Path(settings.MEDIA_ROOT).name}_restorecmd"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TEST_WORKER_DATABASE_NAME": dbname,
           "TEST_DB_NAME": media_key}
    media = ROOT / ".test-media" / media_key
    try:
        proc = subprocess.run([sys.executable, "manage.py", "restore", str(snap)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        items = EvidenceItem.objects.count()
        assert f"verify_audit: intact, {AuditEvent.objects.count()} events" in proc.stdout
        assert f"verify_evidence: intact, {items} files verified" in proc.stdout
        assert count_rows(dbname, "appeals_appeal") == Appeal.objects.count()
        # a second restore over it is refused without --force, and succeeds with it
        again = subprocess.run([sys.executable, "manage.py", "restore", str(snap)], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=120)
        assert again.returncode != 0 and "not empty" in again.stderr
        forced = subprocess.run([sys.executable, "manage.py", "restore", "--force", str(snap)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert forced.returncode == 0, forced.stdout + forced.stderr
    finally:
        import shutil

        shutil.rmtree(media, ignore_errors=True)


def test_the_drill_restores_the_newest_snapshot_and_records_it(seeded, tmp_path, settings):
    settings.BACKUP = {**settings.BACKUP, "DESTINATIONS": [str(tmp_path)], "DRILL_DATABASE": scratch_name("drill")}
    # the beat tasks themselves, applied in this process
    out = tasks.records_backup.apply().get()
    backup_run = RecordsRun.objects.get(pk=out["run"])
    assert out["ok"] and backup_run.ok and backup_run.snapshot.startswith("snapshot-")
    assert backup_run.detail["written"] == [str(tmp_path / backup_run.snapshot)]
    run = RecordsRun.objects.get(pk=tasks.records_restore_drill.apply().get()["run"])
    assert run.ok, run.error
    assert run.snapshot.endswith(backup_run.snapshot) and run.detail["audit"].startswith("intact")
    assert not db_exists(scratch_name("drill"))  # the scratch copy is dropped
    assert not Message.objects.filter(template=runs.TEMPLATE).exists()


def test_a_failed_drill_is_recorded_and_mails_the_managers(seeded, manager, tmp_path, settings):
    settings.BACKUP = {**settings.BACKUP, "DESTINATIONS": [str(tmp_path)], "DRILL_DATABASE": scratch_name("drill")}
    backup.snapshot_create([str(tmp_path)])
    snap = _only_snapshot(tmp_path)
    manifest = json.loads((snap / "manifest.json").read_text())
    (snap / manifest["files"][0]["path"]).write_bytes(b"changed")

    run = runs.records_restore_drill()
    run.refresh_from_db()
    assert run.ok is False and "TAMPERED" in run.error and run.finished_at
    mails = Message.objects.filter(template=runs.TEMPLATE, topic=RecordsRun.TOPIC, topic_id=run.pk)
    assert [m.recipient for m in mails] == [manager.email]
    assert not db_exists(scratch_name("drill"))


def test_a_drill_with_no_snapshot_fails_loudly(manager, tmp_path, settings):
    settings.BACKUP = {**settings.BACKUP, "DESTINATIONS": [str(tmp_path / "empty")]}
    run = runs.records_restore_drill()
    assert run.ok is False and "no complete snapshot" in run.error
    assert Message.objects.filter(template=runs.TEMPLATE, recipient=manager.email).count() == 1


def test_the_beat_runs_backup_daily_and_the_drill_monthly():
    schedule = registry.beat_schedule()
    assert schedule["records-backup"] == {"task": "appeals.tasks.records_backup", "schedule": 86400.0}
    assert schedule["records-restore-drill"] == {"task": "appeals.tasks.records_restore_drill", "schedule": 30 * 86400.0}
    assert schedule["records-retention"]["task"] == "appeals.tasks.records_retention"
    assert schedule["records-purge-sessions"]["task"] == "appeals.tasks.records_purge_sessions"
