"""Benchmark: backup and restore time for N appeals with their evidence.

Builds a fresh database (BENCH_DATABASE_URL, default .../bench_appeals_backup; dropped and
re-created) holding N appeals, each with --files small evidence objects on local storage and one
audit event (a real hash chain), then times:

- backup:  `snapshot_create` to a local folder (pg_dump custom format + every object + manifest);
- restore: `snapshot_restore` into an empty database (<name>_restored) and an empty folder,
           including the verification it runs (the audit chain and every evidence SHA-256).

    .venv/bin/python benchmarks/backup.py --appeals 100000 [--files 2] [--file-kb 2] [--keep]
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_appeals_backup")

COLUMNS = {
    "appeals_messagingaccount": ["id", "enterprise_id", "platform", "account_id", "display_name", "account_type", "created_at"],
    "appeals_banincident": ["id", "enterprise_id", "account_id", "banned_at", "kind", "severity", "reason", "notice_text",
                            "created_by_id", "created_at"],
    "appeals_appeal": ["id", "reference", "enterprise_id", "incident_id", "statement", "contact_phone", "state", "filed_by_id",
                       "resume_state", "is_emergency", "created_at", "updated_at"],
    "appeals_evidenceitem": ["id", "uuid", "appeal_id", "enterprise_id", "group", "kind", "original_name", "file_type", "size",
                             "sha256", "storage_name", "derived_status", "thumbnail_name", "preview_name", "uploaded_by_id",
                             "uploaded_at"],
    "appeals_auditevent": ["id", "position", "created_at", "actor_id", "actor_username", "action", "target_type", "target_id",
                           "enterprise_id", "before", "after", "prev_hash", "hash"],
}


def _quoted(table: str) -> str:
    return ", ".join(f'"{c}"' for c in COLUMNS[table])  # "group" is a keyword


def recreate(url: str) -> None:
    import psycopg

    name, admin = url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    import psycopg

    name, admin = url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup(media: Path) -> None:
    os.environ.update({
        "DATABASE_URL": BENCH_DB, "MEDIA_ROOT": str(media), "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false", "LOG_LEVEL": "WARNING", "CELERY_TASK_ALWAYS_EAGER": "true", "EVIDENCE_S3_BUCKET": "",
    })
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
    recreate(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n: int, files: int, file_kb: int, media: Path) -> tuple[int, int]:
    from bench_schema import check_insert_columns
    from django.db import connection

    from appeals.audit.models import GENESIS_HASH, AuditEvent
    from appeals.models import Enterprise, User

    for table, cols in COLUMNS.items():
        check_insert_columns(f"INSERT INTO {table} ({', '.join(cols)})")
    ent = Enterprise.objects.create(name="Bench Co", credit_code="91310000MA1FL0B1X0", legal_rep_name="张伟",
                                    legal_rep_mobile="13800000000", admin_name="李娜", admin_email="a@example.com",
                                    admin_phone="13900000000")
    admin = User.objects.create_user("bench-admin", password="x", enterprise=ent)
    now = datetime.now(UTC).replace(microsecond=0)
    rand = os.urandom(file_kb * 1024 + 64)
    total_bytes = 0
    prev = GENESIS_HASH
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy(f"COPY appeals_messagingaccount ({_quoted('appeals_messagingaccount')}) FROM STDIN") as cp:
            for a in range(n // 100 + 1):
                cp.write_row([a + 1, ent.pk, "wecom", f"acct-{a}", f"A{a}", "operations", now])
        with raw.copy(f"COPY appeals_banincident ({_quoted('appeals_banincident')}) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row([i + 1, ent.pk, i // 100 + 1, now - timedelta(hours=2), "short_ban", "medium", "spam", "",
                              admin.pk, now])
        with raw.copy(f"COPY appeals_appeal ({_quoted('appeals_appeal')}) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row([i + 1, f"AP-2026-{i + 1:06d}", ent.pk, i + 1, "bench", "13700000000",
                              "withdrawn" if i % 2 else "draft", admin.pk, "", False, now, now])
        with raw.copy(f"COPY appeals_evidenceitem ({_quoted('appeals_evidenceitem')}) FROM STDIN") as cp:
            item_id = 0
            for i in range(n):
                ref = f"AP-2026-{i + 1:06d}"
                for k in range(files):
                    item_id += 1
                    uid = uuid.uuid4()
                    data = rand[(item_id * 7) % 64:][: file_kb * 1024] + item_id.to_bytes(8, "big")
                    name = f"evidence/{ent.pk}/{ref}/other/{uid}.pdf"
                    path = media / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    total_bytes += len(data)
                    cp.write_row([item_id, uid, i + 1, ent.pk, "other", "other", f"f{k}.pdf", "pdf", len(data),
                                  hashlib.sha256(data).hexdigest(), name, "none", "", "", admin.pk, now])
        with raw.copy(f"COPY appeals_auditevent ({_quoted('appeals_auditevent')}) FROM STDIN") as cp:
            for i in range(n):
                event = AuditEvent(position=i + 1, created_at=now + timedelta(microseconds=i), actor_id=admin.pk,
                                   actor_username=admin.username, action="appeal.create", target_type="appeals.appeal",
                                   target_id=str(i + 1), enterprise_id=ent.pk, before={}, after={"reference": f"AP-2026-{i + 1:06d}"},
                                   ip=None, prev_hash=prev)
                event.hash = event.compute_hash()
                prev = event.hash
                cp.write_row([i + 1, event.position, event.created_at, admin.pk, admin.username, event.action, event.target_type,
                              event.target_id, ent.pk, json.dumps({}), json.dumps(event.after), event.prev_hash, event.hash])
        for table in COLUMNS:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
    return n * files, total_bytes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appeals", type=int, default=1000)
    parser.add_argument("--files", type=int, default=2, help="evidence objects per appeal")
    parser.add_argument("--file-kb", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the databases and folders afterwards")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    media, out, restored_media = work / "media", work / "backups", work / "restored"
    restored_db = BENCH_DB + "_restored"
    try:
        setup(media)
        from django.core.files.storage import FileSystemStorage

        from appeals.records import backup

        t = time.perf_counter()
        objects, size = seed(opts.appeals, opts.files, opts.file_kb, media)
        print(f"seeded {opts.appeals} appeals, {objects} evidence objects ({size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")

        result = backup.snapshot_create([str(out)])
        assert result.ok, result.problems[:5]
        dump_mb = result.manifest["database"]["size"] / 1e6
        print(f"backup:  {result.seconds:7.1f} s  ({len(result.manifest['files'])} files, dump {dump_mb:.1f} MB)")

        recreate(restored_db)
        restored = backup.snapshot_restore(result.written[0], database=restored_db.rsplit("/", 1)[1],
                                           storage=FileSystemStorage(location=restored_media))
        assert restored.ok, restored.problems[:5]
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in restored.timings.items())
        print(f"restore: {restored.seconds:7.1f} s  ({parts}; {restored.audit}; {restored.evidence})")
        print(json.dumps({"appeals": opts.appeals, "objects": objects, "bytes": size, "backup_s": round(result.seconds, 1),
                          "restore_s": round(restored.seconds, 1), "restore_parts_s": {k: round(v, 1) for k, v in restored.timings.items()}}))
    finally:
        if not opts.keep:
            from django.db import connections

            connections.close_all()
            drop(restored_db)
            drop(BENCH_DB)
            shutil.rmtree(work, ignore_errors=True)  # last: at 100k appeals it takes minutes
        else:
            print(f"kept: {work}, {BENCH_DB}, {restored_db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
