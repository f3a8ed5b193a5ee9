"""The case bundle (ZIP: evidence, manifest with SHA-256, timeline) and integrity checks."""

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from appeals.audit.services import audit_object
from appeals.core.models import Appeal, AppealEvent
from appeals.evidence.models import EvidenceItem
from appeals.evidence.services import evidence_storage
from appeals.shared.masking import mask_id_numbers


def download_name(item: EvidenceItem, variant: str = "original") -> str:
    """A safe, ASCII, generated file name: the uploader's name never reaches a header."""
    base = f"{item.appeal.reference}_{item.kind}_{str(item.uuid)[:8]}"
    if variant == "original":
        return f"{base}.{item.extension}"
    return f"{base}.{variant}.{'jpg' if item.is_image else 'csv'}"


def _copy_hashing(src, dst) -> str:
    digest = hashlib.sha256()
    chunk_size = settings.EVIDENCE["CHUNK_SIZE"]
    while True:
        chunk = src.read(chunk_size)
        if not chunk:
            return digest.hexdigest()
        digest.update(chunk)
        dst.write(chunk)


def evidence_bundle(*, appeal: Appeal, by):
    """Write the case's ZIP to a temporary file (streamed, file by file) and return it open at 0."""
    items = list(EvidenceItem.objects.filter(appeal=appeal).select_related("uploaded_by", "appeal").order_by("uploaded_at", "id"))
    events = AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("created_at", "id")
    storage = evidence_storage()
    out = tempfile.TemporaryFile()
    manifest_files = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for item in items:
            path = f"evidence/{item.group}/{download_name(item)}"
            # Images, PDFs and gzip are compressed already; store them as they are.
            compress = zipfile.ZIP_DEFLATED if item.file_type == "csv" else zipfile.ZIP_STORED
            entry = {
                "path": path, "kind": item.kind, "group": item.group, "file_type": item.file_type, "size": item.size,
                "sha256": item.sha256, "original_name": mask_id_numbers(item.original_name),
                "uploaded_at": item.uploaded_at, "uploaded_by": item.uploaded_by.username,
            }
            info = zipfile.ZipInfo(path, date_time=timezone.localtime(item.uploaded_at).timetuple()[:6])
            info.compress_type = compress
            try:
                with storage.open(item.storage_name, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    actual = _copy_hashing(src, dst)
                entry["verified"] = actual == item.sha256
            except FileNotFoundError:
                entry["verified"] = False
                entry["missing"] = True
            manifest_files.append(entry)
        manifest = {
            "reference": appeal.reference, "enterprise": appeal.enterprise.name, "state": appeal.state,
            "generated_at": timezone.now(), "generated_by": by.username, "hash_algorithm": "SHA-256",
            "files": manifest_files,
        }
        zf.writestr("manifest.json", json.dumps(manifest, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        zf.writestr("SHA256SUMS", "".join(f"{f['sha256']}  {f['path']}\n" for f in manifest_files))
        timeline = [
            {"time": e.created_at, "actor": e.actor.username if e.actor else "system", "action": e.action,
             "from_state": e.from_state, "to_state": e.to_state, "comment": mask_id_numbers(e.comment)}
            for e in events
        ]
        zf.writestr("timeline.json", json.dumps(timeline, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
    audit_object(actor=by, action="appeal.bundle_download", obj=appeal, after={
        "files": len(manifest_files), "unverified": [f["path"] for f in manifest_files if not f["verified"]],
    })
    out.seek(0)
    return out


@dataclass(frozen=True)
class IntegrityProblem:
    item_id: int
    reference: str
    storage_name: str
    problem: str  # "missing" | "mismatch"
    expected: str
    actual: str = ""

    def __str__(self) -> str:
        if self.problem == "missing":
            return f"MISSING  {self.reference} item {self.item_id}: {self.storage_name}"
        return f"MISMATCH {self.reference} item {self.item_id}: {self.storage_name} expected {self.expected} got {self.actual}"


def evidence_verify(*, reference: str | None = None, using: str = "default", storage=None):
    """Re-hash every stored original; yield (item, problem-or-None) one at a time.

    Items whose file the retention rule erased are not expected in the storage. `using` and
    `storage`: another database alias and storage (a restore drill checks its scratch copy)."""
    storage = storage if storage is not None else evidence_storage()
    qs = EvidenceItem.objects.using(using).filter(erased_at__isnull=True).select_related("appeal").order_by("id")
    if reference:
        qs = qs.filter(appeal__reference=reference)
    for item in qs.iterator(chunk_size=500):
        try:
            with storage.open(item.storage_name, "rb") as fp:
                digest = hashlib.sha256()
                while chunk := fp.read(settings.EVIDENCE["CHUNK_SIZE"]):
                    digest.update(chunk)
        except (FileNotFoundError, OSError):
            yield item, IntegrityProblem(item.pk, item.appeal.reference, item.storage_name, "missing", item.sha256)
            continue
        actual = digest.hexdigest()
        if actual != item.sha256:
            yield item, IntegrityProblem(item.pk, item.appeal.reference, item.storage_name, "mismatch", item.sha256, actual)
        else:
            yield item, None
