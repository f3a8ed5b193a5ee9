"""One consistent snapshot (database + evidence objects + manifest) to every destination, and back.

Consistency: a REPEATABLE READ transaction exports its snapshot (`pg_export_snapshot()`);
`pg_dump --snapshot` dumps exactly that state while the same transaction lists the evidence
objects the dumped rows refer to, so the copied objects are those of the dumped rows. Evidence is
write-once (a stored name is never reused or rewritten), so copying an object after the dump
started copies what the dumped row describes; its SHA-256 is checked against the row.
"""

import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from appeals.audit.models import AuditEvent
from appeals.audit.services import audit_verify_chain
from appeals.evidence.bundle import evidence_verify
from appeals.evidence.models import EvidenceItem
from appeals.evidence.services import evidence_storage
from appeals.records.destinations import (
    MANIFEST,
    SNAPSHOT_PREFIX,
    DestinationError,
    LocalDestination,
    destination,
    safe_relative,
    snapshot_source,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
DUMP = "db.dump"
OBJECTS = "objects"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    pass


class RestoreError(Exception):
    pass


# --- the database connection, as libpq sees it ---------------------------------------------------


def _db_settings(alias: str = "default") -> dict:
    s = connections[alias].settings_dict
    return {"host": s.get("HOST") or "", "port": str(s.get("PORT") or ""), "user": s.get("USER") or "",
            "password": s.get("PASSWORD") or "", "dbname": s["NAME"]}


def _pg_env(conf: dict) -> dict:
    env = {**os.environ}
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        if conf[key]:
            env[var] = conf[key]
    return env


def _connect(conf: dict, dbname: str | None = None, **kwargs) -> psycopg.Connection:
    params = {k: v for k, v in conf.items() if v and k != "dbname"}
    return psycopg.connect(dbname=dbname or conf["dbname"], **params, **kwargs)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(src, dst) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        dst.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


# --- backup ----------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    name: str
    written: list[str]
    manifest: dict
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def _table(model) -> str:
    return connections["default"].ops.quote_name(model._meta.db_table)


def snapshot_create(destinations: list[str]) -> BackupResult:
    """Write one snapshot to every destination (local folders, s3://bucket/prefix URLs)."""
    if not destinations:
        raise BackupError("no destination given (BACKUP_DESTINATIONS or the command's arguments)")
    if connections["default"].vendor != "postgresql":
        raise BackupError("backups need PostgreSQL (pg_dump)")
    started = time.perf_counter()
    targets = [destination(d) for d in destinations]
    name = SNAPSHOT_PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    local = next((t for t in targets if isinstance(t, LocalDestination)), None)
    if local is not None:
        local.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=local.root))
    else:
        staging = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=settings.BACKUP["STAGING_DIR"] or None))
    conf = _db_settings()
    problems: list[str] = []
    try:
        with _connect(conf, autocommit=False) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            # pg_dump runs alongside; the exporting transaction stays open until it is done.
            dump_log = tempfile.TemporaryFile()
            dump = subprocess.Popen(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot_id}", f"--file={staging / DUMP}",
                 f"--dbname={conf['dbname']}"],
                env=_pg_env(conf), stdout=subprocess.DEVNULL, stderr=dump_log,
            )
            try:
                head = conn.execute(f"SELECT id, position, hash FROM {_table(AuditEvent)} ORDER BY position DESC LIMIT 1").fetchone()
                counts = {}
                for model in apps.get_app_config("appeals").get_models():
                    counts[model._meta.label_lower] = conn.execute(f"SELECT count(*) FROM {_table(model)}").fetchone()[0]
                rows = conn.execute(
                    f"SELECT id, storage_name, sha256, size, thumbnail_name, preview_name FROM {_table(EvidenceItem)} "
                    "WHERE erased_at IS NULL ORDER BY id"
                ).fetchall()
                files, problems = _copy_objects(rows, staging)
                dump.wait()
            finally:
                if dump.poll() is None:
                    dump.kill()
                    dump.wait()
            conn.rollback()
        if dump.returncode != 0:
            dump_log.seek(0)
            raise BackupError(f"pg_dump failed ({dump.returncode}): {dump_log.read().decode(errors='replace').strip()[-2000:]}")
        manifest = {
            "format": FORMAT_VERSION,
            "name": name,
            "created_at": timezone.now().isoformat(),
            "database": {"path": DUMP, "format": "pg_dump custom", "sha256": _sha256_file(staging / DUMP),
                         "size": (staging / DUMP).stat().st_size, "snapshot": snapshot_id},
            "audit_head": {"id": head[0], "position": head[1], "hash": head[2]} if head else None,
            "counts": counts,
            "files": files,
            "problems": problems,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        # Every other destination gets a copy; the local folder that holds the staging area
        # last, by a rename (the snapshot appears there whole or not at all).
        written = [t.put_tree(staging, name) for t in targets if t is not local]
        if local is not None:
            written.append(local.put_tree(staging, name, move=True))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(name, written, manifest, problems, time.perf_counter() - started)


def _copy_objects(rows, staging: Path) -> tuple[list[dict], list[str]]:
    storage = evidence_storage()
    jobs = []
    for item_id, storage_name, sha256, size, thumb, preview in rows:
        jobs.append((item_id, "original", storage_name, sha256, size))
        for role, derived in (("thumbnail", thumb), ("preview", preview)):
            if derived:
                jobs.append((item_id, role, derived, None, None))

    def copy(job):
        item_id, role, name, expected, expected_size = job
        rel = f"{OBJECTS}/{safe_relative(name)}"
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with storage.open(name, "rb") as src, open(target, "wb") as dst:
                actual, size = _copy_hashing(src, dst)
        except (FileNotFoundError, OSError) as exc:
            target.unlink(missing_ok=True)
            if role != "original":  # a display copy can be derived again from its original
                return None, None
            return None, f"MISSING  evidence item {item_id}: {name} ({exc.__class__.__name__})"
        entry = {"path": rel, "name": name, "item": item_id, "role": role, "sha256": actual, "size": size}
        if expected and actual != expected:
            return entry, f"MISMATCH evidence item {item_id}: {name} expected {expected} got {actual}"
        return entry, None

    files, problems = [], []
    with ThreadPoolExecutor(max_workers=settings.BACKUP["WORKERS"]) as pool:
        for entry, problem in pool.map(copy, jobs):
            if entry:
                files.append(entry)
            if problem:
                problems.append(problem)
    return files, problems


def snapshots_in(url: str) -> list[str]:
    """Complete snapshots (with a manifest) at a destination, oldest first, as restorable URLs."""
    target = destination(url)
    return [target.snapshot_url(name) for name in target.snapshots()]


# --- restore ---------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    snapshot: str
    database: str
    files: int
    problems: list[str]
    audit: str = ""
    evidence: str = ""
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _user_tables(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
    ).fetchone()[0]


def _storage_empty(storage) -> bool:
    try:
        dirs, files = storage.listdir("")
    except FileNotFoundError:
        return True
    return not dirs and not files


class _Alias:
    """A temporary Django connection alias for another database on the same server."""

    def __init__(self, dbname: str):
        self.dbname = dbname
        self.alias = f"records_restore_{dbname}"

    def __enter__(self) -> str:
        if connections["default"].settings_dict["NAME"] == self.dbname:
            self.alias = "default"
            return "default"
        # A connection object made here and handed to the handler, not a configured alias:
        # nothing else (routers, migrations, the test runner) ever sees this database.
        default = connections["default"]
        wrapper = default.__class__({**default.settings_dict, "NAME": self.dbname}, self.alias)
        connections[self.alias] = wrapper
        return self.alias

    def __exit__(self, *exc):
        if self.alias != "default":
            connections[self.alias].close()
            del connections[self.alias]


def snapshot_restore(source_url: str, *, database: str | None = None, storage=None, force: bool = False,
                     jobs: int | None = None) -> RestoreResult:
    """Rebuild an empty database and evidence storage from a snapshot, then verify both.

    `database`: a database name on the configured server (default: the configured database).
    `storage`: the evidence storage to fill (default: the configured one). Refuses a database
    with any table, or a storage holding anything, unless `force` (which drops the schema).
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    source = snapshot_source(source_url)
    storage = storage if storage is not None else evidence_storage()
    conf = _db_settings()
    dbname = database or conf["dbname"]
    try:
        with source.open(MANIFEST) as fp:
            manifest = json.loads(fp.read())
    except (FileNotFoundError, OSError, ValueError, DestinationError) as exc:
        raise RestoreError(f"{source_url}: no readable {MANIFEST} ({exc}); an unfinished or foreign snapshot") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise RestoreError(f"{source_url}: snapshot format {manifest.get('format')!r} is not {FORMAT_VERSION}")

    with _connect(conf, dbname=dbname, autocommit=True) as conn:
        tables = _user_tables(conn)
        if tables and not force:
            raise RestoreError(f"database {dbname!r} is not empty ({tables} tables); restore into an empty database or pass --force")
        if not _storage_empty(storage) and not force:
            raise RestoreError("the evidence storage is not empty; restore into an empty storage or pass --force")
        if tables:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="restore-", dir=settings.BACKUP["STAGING_DIR"] or None) as tmp:
        t = time.perf_counter()
        dump = source.fetch(DUMP, Path(tmp) / DUMP)
        if _sha256_file(dump) != manifest["database"]["sha256"]:
            raise RestoreError(f"{DUMP} does not match the manifest's SHA-256: the snapshot is damaged")
        proc = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={jobs or settings.BACKUP['RESTORE_JOBS']}",
             f"--dbname={dbname}", str(dump)],
            env=_pg_env(conf), capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise RestoreError(f"pg_restore failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
        timings["database"] = time.perf_counter() - t

    t = time.perf_counter()
    problems += _restore_objects(source, manifest["files"], storage, force=force)
    timings["objects"] = time.perf_counter() - t
    result = RestoreResult(source_url, dbname, len(manifest["files"]), problems, timings=timings)

    t = time.perf_counter()
    with _Alias(dbname) as alias:
        result.problems += _check_against_manifest(alias, manifest)
        if alias == "default" and storage is evidence_storage():
            # The configured database and storage: the operators' own commands.
            for command, attr in (("verify_audit", "audit"), ("verify_evidence", "evidence")):
                out = io.StringIO()
                try:
                    call_command(command, stdout=out)
                except CommandError as exc:
                    result.problems += [line for line in out.getvalue().splitlines() if line.strip()] + [f"{command}: {exc}"]
                setattr(result, attr, out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else "failed")
        else:  # a scratch database (the restore drill): the same checks, on that alias and storage
            chain = audit_verify_chain(using=alias)
            result.audit = str(chain)
            if not chain.intact:
                result.problems.append(f"verify_audit: {chain}")
            checked, bad = 0, []
            for _item, problem in evidence_verify(using=alias, storage=storage):
                checked += 1
                if problem:
                    bad.append(str(problem))
            result.evidence = f"{checked - len(bad)} of {checked} files verified"
            result.problems += bad
    timings["verify"] = time.perf_counter() - t
    result.seconds = time.perf_counter() - started
    return result


def _restore_objects(source, files: list[dict], storage, *, force: bool) -> list[str]:
    def put(entry):
        name, rel = entry["name"], entry["path"]
        try:
            safe_relative(name)
            with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as spool:
                with source.open(rel) as src:
                    actual, size = _copy_hashing(src, spool)
                if actual != entry["sha256"] or size != entry["size"]:
                    return f"TAMPERED {rel}: manifest says {entry['sha256']} ({entry['size']} bytes), snapshot holds {actual} ({size} bytes)"
                spool.seek(0)
                if force and storage.exists(name):
                    storage.delete(name)
                saved = storage.save(name, File(spool, name=name))
            if saved != name:
                return f"CONFLICT {name}: the storage kept it as {saved}"
        except (FileNotFoundError, DestinationError) as exc:
            return f"MISSING  {rel} in the snapshot ({exc})"
        return None

    with ThreadPoolExecutor(max_workers=settings.BACKUP["WORKERS"]) as pool:
        return [p for p in pool.map(put, files) if p]


def _check_against_manifest(alias: str, manifest: dict) -> list[str]:
    problems = []
    for label, expected in manifest.get("counts", {}).items():
        try:
            model = apps.get_model(label)
        except LookupError:
            problems.append(f"table of {label} is unknown to this version")
            continue
        actual = model._default_manager.using(alias).count()
        if actual != expected:
            problems.append(f"{label}: {actual} rows restored, the snapshot had {expected}")
    head = manifest.get("audit_head")
    if head:
        row = AuditEvent.objects.using(alias).filter(position=head["position"]).values("id", "hash").first()
        if not row or row["hash"] != head["hash"] or row["id"] != head["id"]:
            problems.append(f"audit chain head #{head['position']} does not match the manifest's {head['hash'][:16]}")
        if AuditEvent.objects.using(alias).filter(position__gt=head["position"]).exists():
            problems.append("audit events after the manifest's head")
    return problems
