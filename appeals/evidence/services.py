"""Writes for the evidence library: upload, delete, derived copies, log analysis, access records.

Also owns the completeness rules (one place: settings.EVIDENCE_REQUIRED read by
`evidence_required_kinds`), registered as a guard on the submit transition.

Transactions (appeals.shared.db): upload, delete and the view record are entry points (one
durable transaction each); the two task services write their result in one durable
transaction after the slow file work, which runs outside any transaction.
"""

import hashlib
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from appeals.audit.services import audit_object
from appeals.core.models import Appeal, AppealState
from appeals.evidence.anomaly import AnomalyReport, detect_anomalies
from appeals.evidence.files import extension_for, inspect_upload, open_image_safely, reject
from appeals.evidence.log_analysis import analyse_operation_log
from appeals.evidence.models import (
    KIND_RULES,
    AnalysisStatus,
    AnomalyHour,
    DerivedStatus,
    EvidenceItem,
    EvidenceKind,
    FileType,
    LogAnalysis,
    RiskFlag,
)
from appeals.shared.db import entry_point, retry_on_lock_conflict
from appeals.shared.exceptions import GuardFailed, ValidationFailed
from appeals.shared.masking import mask_id_numbers
from appeals.shared.tasks import publish, publish_on_commit
from appeals.shared.writes import require

logger = logging.getLogger(__name__)

# Evidence may be added while the applicant still holds the case; after submission only
# in needs_info (a reviewer asked for more). Deleting is possible only in a draft.
ADDABLE_STATES = (AppealState.DRAFT, AppealState.NEEDS_INFO)
DELETABLE_STATES = (AppealState.DRAFT,)


def evidence_storage():
    return storages["evidence"]


def storage_name_for(*, appeal: Appeal, group: str, uid: uuid.UUID, ext: str, variant: str = "") -> str:
    """evidence/<enterprise>/<appeal reference>/<group>/<uuid>.<ext>; the user's name never appears."""
    folder = f"evidence/{appeal.enterprise_id}/{appeal.reference}/{group}"
    if variant:
        return f"{folder}/derived/{uid}.{variant}.{ext}"
    return f"{folder}/{uid}.{ext}"


def _sha256_of(file) -> str:
    streamed = getattr(file, "sha256_streamed", None)
    if streamed and getattr(file, "size_streamed", None) == file.size:
        return streamed
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks(settings.EVIDENCE["CHUNK_SIZE"]):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _check_addable(appeal: Appeal) -> None:
    if appeal.state not in ADDABLE_STATES:
        raise GuardFailed(
            _("Evidence can no longer be changed: the appeal is %(state)s.") % {"state": appeal.get_state_display()},
            code="evidence_locked",
        )


def _clean_name(name: str) -> str:
    # Kept as text for people to read; control characters and paths are dropped.
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255]


@entry_point
def evidence_upload(*, appeal: Appeal, by, kind: str, file) -> EvidenceItem:
    """Check the file by its content, store the original unchanged, record its SHA-256."""
    require(by.enterprise_id is not None and by.enterprise_id == appeal.enterprise_id,
            _("Only the enterprise that filed the appeal may add evidence."))
    if kind not in EvidenceKind.values:
        raise ValidationFailed(fields={"kind": [_("Choose one of the evidence kinds.")]})
    if file is None:
        raise ValidationFailed(fields={"file": [_("Choose a file to upload.")]})
    _check_addable(appeal)
    limit = settings.EVIDENCE["MAX_BYTES_PER_KIND"][kind]
    if file.size > limit:
        raise reject("too_large", _("The file is larger than %(mb)s MB, the limit for this kind of evidence.")
                     % {"mb": limit // (1024 * 1024)})
    original_name = _clean_name(getattr(file, "name", ""))
    inspected = inspect_upload(file, kind=kind, name=original_name)
    sha256 = _sha256_of(file)
    group = KIND_RULES[kind][0]
    uid = uuid.uuid4()
    name = storage_name_for(appeal=appeal, group=group, uid=uid, ext=extension_for(inspected.file_type))

    locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
    _check_addable(locked)
    totals = EvidenceItem.objects.filter(appeal=locked).aggregate(n=Count("id"), total=Sum("size"))
    if totals["n"] >= settings.EVIDENCE["MAX_ITEMS_PER_APPEAL"]:
        raise reject("quota_count", _("An appeal may hold at most %(n)s files.") % {"n": settings.EVIDENCE["MAX_ITEMS_PER_APPEAL"]})
    if (totals["total"] or 0) + file.size > settings.EVIDENCE["MAX_TOTAL_BYTES_PER_APPEAL"]:
        raise reject("quota_size", _("The appeal's files would exceed %(mb)s MB in total.")
                     % {"mb": settings.EVIDENCE["MAX_TOTAL_BYTES_PER_APPEAL"] // (1024 * 1024)})

    storage = evidence_storage()
    file.seek(0)
    stored = storage.save(name, file)
    try:
        item = EvidenceItem.objects.create(
            uuid=uid, appeal=locked, enterprise_id=locked.enterprise_id, group=group, kind=kind,
            original_name=original_name, file_type=inspected.file_type, size=file.size, sha256=sha256,
            storage_name=stored, width=inspected.width, height=inspected.height, link_targets=list(inspected.links),
            derived_status=DerivedStatus.PENDING if inspected.width else DerivedStatus.NONE,
            uploaded_by=by,
        )
        if kind == EvidenceKind.OPERATION_LOG:
            LogAnalysis.objects.create(evidence=item)
        audit_object(actor=by, action="evidence.upload", obj=item, after={
            "appeal": locked.reference, "kind": kind, "file_type": item.file_type, "size": item.size,
            "sha256": sha256, "original_name": mask_id_numbers(original_name), "storage_name": stored,
            **({"link_targets": item.link_targets} if item.link_targets else {}),
        })
    except BaseException:
        storage.delete(stored)  # nothing half-written stays behind
        raise

    if item.derived_status == DerivedStatus.PENDING:
        publish_on_commit("appeals.tasks.evidence.derive_display_copies", item.pk)
    if kind == EvidenceKind.OPERATION_LOG:
        publish_on_commit("appeals.tasks.evidence.analyse_operation_log", item.pk)
    return item


@entry_point
def evidence_add_converted_log(*, appeal: Appeal, by, file, file_type: str, original_name: str, converted_csv: bytes,
                               source: str) -> EvidenceItem:
    """An operation log that came in another shape (appeals.platform: the WeCom API's JSON pages, the
    console's CSV/XLSX export): the original is stored unchanged with its SHA-256, as any upload;
    `converted_csv` (the documented CSV layout) is stored beside it as its derived copy, which the
    analysis reads instead of the original. The caller has checked the file's type from its bytes."""
    require(by.enterprise_id is not None and by.enterprise_id == appeal.enterprise_id,
            _("Only the enterprise that filed the appeal may add evidence."))
    if file_type not in (FileType.JSON, FileType.XLSX, FileType.CSV):
        raise ValueError(f"not a converted operation-log type: {file_type}")
    if not file.size:
        raise reject("empty_file", _("The file is empty."))
    _check_addable(appeal)
    kind = EvidenceKind.OPERATION_LOG
    limit = settings.EVIDENCE["MAX_BYTES_PER_KIND"][kind]
    if file.size > limit:
        raise reject("too_large", _("The file is larger than %(mb)s MB, the limit for this kind of evidence.")
                     % {"mb": limit // (1024 * 1024)})
    sha256 = _sha256_of(file)
    group = KIND_RULES[kind][0]
    uid = uuid.uuid4()
    locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
    _check_addable(locked)
    totals = EvidenceItem.objects.filter(appeal=locked).aggregate(n=Count("id"), total=Sum("size"))
    if totals["n"] >= settings.EVIDENCE["MAX_ITEMS_PER_APPEAL"]:
        raise reject("quota_count", _("An appeal may hold at most %(n)s files.") % {"n": settings.EVIDENCE["MAX_ITEMS_PER_APPEAL"]})
    if (totals["total"] or 0) + file.size > settings.EVIDENCE["MAX_TOTAL_BYTES_PER_APPEAL"]:
        raise reject("quota_size", _("The appeal's files would exceed %(mb)s MB in total.")
                     % {"mb": settings.EVIDENCE["MAX_TOTAL_BYTES_PER_APPEAL"] // (1024 * 1024)})
    storage = evidence_storage()
    file.seek(0)
    stored = storage.save(storage_name_for(appeal=locked, group=group, uid=uid, ext=extension_for(file_type)), file)
    derived = ""
    try:
        derived = storage.save(storage_name_for(appeal=locked, group=group, uid=uid, ext="csv", variant="log"),
                               ContentFile(converted_csv))
        item = EvidenceItem.objects.create(
            uuid=uid, appeal=locked, enterprise_id=locked.enterprise_id, group=group, kind=kind,
            original_name=_clean_name(original_name), file_type=file_type, size=file.size, sha256=sha256,
            storage_name=stored, preview_name=derived, derived_status=DerivedStatus.READY, uploaded_by=by,
        )
        LogAnalysis.objects.create(evidence=item)
        audit_object(actor=by, action="evidence.upload", obj=item, after={
            "appeal": locked.reference, "kind": kind, "file_type": file_type, "size": item.size, "sha256": sha256,
            "original_name": mask_id_numbers(item.original_name), "storage_name": stored, "source": source,
            "converted_csv": derived, "converted_csv_sha256": hashlib.sha256(converted_csv).hexdigest(),
        })
    except BaseException:
        for name in (stored, derived):
            if name:
                storage.delete(name)
        raise
    publish_on_commit("appeals.tasks.evidence.analyse_operation_log", item.pk)
    return item


@entry_point
def evidence_delete(*, item: EvidenceItem, by) -> None:
    """Only a draft's evidence can be removed; after submission it is kept for good."""
    require(by.enterprise_id is not None and by.enterprise_id == item.enterprise_id)
    appeal = Appeal.objects.select_for_update().get(pk=item.appeal_id)
    if appeal.state not in DELETABLE_STATES:
        raise GuardFailed(_("Evidence cannot be deleted after the appeal was submitted."), code="evidence_locked")
    names = [n for n in (item.storage_name, item.thumbnail_name, item.preview_name) if n]
    snapshot = {"kind": item.kind, "sha256": item.sha256, "size": item.size, "storage_name": item.storage_name}
    LogAnalysis.objects.filter(evidence=item).delete()
    RiskFlag.objects.filter(evidence=item).delete()
    AnomalyHour.objects.filter(evidence=item).delete()
    audit_object(actor=by, action="evidence.delete", obj=item, before=snapshot)
    item.delete()
    storage = evidence_storage()

    def delete_files():
        for name in names:
            storage.delete(name)

    # Robust: the deletion has committed; a storage error after it is logged (by Django),
    # never turned into an error page for a change that was made.
    transaction.on_commit(delete_files, robust=True)


@entry_point
def evidence_record_view(*, item: EvidenceItem, by, variant: str) -> None:
    """Who looked at which file (an ID card, say) and when: one audit event per view."""
    audit_object(actor=by, action="evidence.view", obj=item, after={
        "appeal": item.appeal.reference, "kind": item.kind, "variant": variant,
    })


# --- derived display copies (Celery) --------------------------------------------------------


def _flatten_for_jpeg(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _jpeg_bytes(img: Image.Image, size) -> bytes:
    copy = img.copy()
    copy.thumbnail(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the copy carries no EXIF (GPS, camera, original orientation).
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def evidence_derive_display_copies(*, item_id: int) -> EvidenceItem:
    """EXIF-stripped, orientation-fixed thumbnail and preview of an image. Idempotent."""
    item = EvidenceItem.objects.select_related("appeal").get(pk=item_id)
    if not item.is_image or item.derived_status == DerivedStatus.READY:
        return item
    storage = evidence_storage()
    try:
        with storage.open(item.storage_name, "rb") as fp:
            img = open_image_safely(fp, item.file_type)
            try:
                upright = _flatten_for_jpeg(ImageOps.exif_transpose(img))
                thumb = _jpeg_bytes(upright, settings.EVIDENCE["THUMBNAIL_SIZE"])
                preview = _jpeg_bytes(upright, settings.EVIDENCE["PREVIEW_SIZE"])
            finally:
                img.close()
    except Exception as exc:  # a file Pillow cannot turn into a copy: record it, never leave it pending
        EvidenceItem.objects.filter(pk=item.pk).update(derived_status=DerivedStatus.FAILED)
        audit_object(actor=None, action="evidence.derive_failed", obj=item, after={"error": str(exc)[:500]})
        item.refresh_from_db()
        return item
    names = {}
    for variant, data in (("thumb", thumb), ("preview", preview)):
        name = storage_name_for(appeal=item.appeal, group=item.group, uid=item.uuid, ext="jpg", variant=variant)
        if storage.exists(name):  # a redelivered task replaces its own earlier output
            storage.delete(name)
        names[variant] = storage.save(name, ContentFile(data))
    with transaction.atomic(durable=True):
        EvidenceItem.objects.filter(pk=item.pk).update(
            thumbnail_name=names["thumb"], preview_name=names["preview"], derived_status=DerivedStatus.READY
        )
        audit_object(actor=None, action="evidence.derive", obj=item, after=names)
    item.refresh_from_db()
    return item


# --- operation-log analysis (Celery) -------------------------------------------------------


def _aware(value):
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def evidence_analyse_log(*, item_id: int) -> LogAnalysis:
    """Run the risk rules over an uploaded log; replaces this log's earlier flags. Idempotent."""
    item = EvidenceItem.objects.select_related("appeal").get(pk=item_id)
    analysis, _created = LogAnalysis.objects.get_or_create(evidence=item)
    LogAnalysis.objects.filter(pk=analysis.pk).update(status=AnalysisStatus.RUNNING, started_at=timezone.now())
    report, error = None, ""
    try:
        # A log converted from another shape (evidence_add_converted_log) is read as its derived CSV.
        name = item.preview_name or item.storage_name
        with evidence_storage().open(name, "rb") as fp:
            report = analyse_operation_log(fp, rules=settings.EVIDENCE_LOG_RULES, health_thresholds=settings.HEALTH_THRESHOLDS)
    except OSError as exc:
        report = None
        error = f"cannot open the stored log: {exc}"
    except Exception as exc:  # an analysis that crashes is a failed analysis, never one left running
        logger.exception("operation-log analysis of evidence %s failed", item.pk)
        report = None
        error = f"the analysis failed: {type(exc).__name__}: {exc}"[:500]
    anomalies = detect_log_anomalies(item=item) if report is not None else None
    return _record_analysis(item=item, analysis_pk=analysis.pk, report=report, error=error, anomalies=anomalies)


def detect_log_anomalies(*, item: EvidenceItem):
    """The anomaly detection's own pass over the stored log (appeals.evidence.anomaly); None when
    switched off. Its failure never fails the risk rules' analysis: it is reported in the summary."""
    config = settings.EVIDENCE_ANOMALY
    if not config["ENABLED"]:
        return None
    try:
        # The same stream the risk rules read: a converted log (WeCom records) as its derived CSV.
        with evidence_storage().open(item.preview_name or item.storage_name, "rb") as fp:
            return detect_anomalies(fp, rules=settings.EVIDENCE_LOG_RULES, config=config)
    except Exception as exc:
        logger.exception("anomaly detection on evidence %s failed", item.pk)
        return AnomalyReport(method=config["METHOD"], error=f"{type(exc).__name__}: {exc}"[:500])


def _record_anomalies(*, item: EvidenceItem, analysis: LogAnalysis, anomalies) -> None:
    """Replace this log's flagged hours (inside the analysis's write transaction)."""
    AnomalyHour.objects.filter(evidence=item).delete()
    if anomalies is None:
        analysis.anomaly = None
        return
    AnomalyHour.objects.bulk_create([
        AnomalyHour(appeal_id=item.appeal_id, enterprise_id=item.enterprise_id, evidence=item, operator=f["operator"],
                    account_type=f["account_type"][:20], hour=_aware(f["hour"]), score=f["score"], kind=f["kind"],
                    drivers=f["drivers"], line_numbers=f["line_numbers"], line_count=f["line_count"],
                    method=anomalies.method)
        for f in anomalies.flagged
    ])
    analysis.anomaly = anomalies.summary()


@retry_on_lock_conflict
def _record_analysis(*, item: EvidenceItem, analysis_pk: int, report, error: str, anomalies=None) -> LogAnalysis:
    """The analysis's one write transaction, in the documented lock order (appeals.audit.services):
    the appeal row first, then the appeal's own rows, the audit chain last. A deadlock or
    serialization failure runs it again (the slow read of the log is not repeated)."""
    with transaction.atomic(durable=True):
        Appeal.objects.select_for_update().only("pk").get(pk=item.appeal_id)
        analysis = LogAnalysis.objects.select_for_update().get(pk=analysis_pk)
        RiskFlag.objects.filter(evidence=item).delete()
        if report is None:
            analysis.status, analysis.error = AnalysisStatus.FAILED, error
        else:
            RiskFlag.objects.bulk_create([
                RiskFlag(appeal_id=item.appeal_id, evidence=item, rule=f["rule"], operator=f["operator"],
                         window_start=_aware(f["window_start"]), window_end=_aware(f["window_end"]),
                         count=f["count"], line_numbers=f["line_numbers"], detail=f["detail"])
                for f in report.flags
            ])
            analysis.status = AnalysisStatus.FAILED if report.error and not report.rows_total else AnalysisStatus.DONE
            analysis.error = report.error
            analysis.encoding = report.encoding
            analysis.rows_total = report.rows_total
            analysis.rows_malformed = report.rows_malformed
            analysis.malformed_lines = report.malformed_lines
            analysis.health = report.health
        if report is None:
            analysis.health = {}
        _record_anomalies(item=item, analysis=analysis, anomalies=anomalies)
        analysis.finished_at = timezone.now()
        analysis.save()
        audit_object(actor=None, action="evidence.analyse_log", obj=item, after={
            "status": analysis.status, "rows": analysis.rows_total, "malformed": analysis.rows_malformed,
            "flags": len(report.flags) if report else 0, "error": analysis.error[:500],
            "health": _health_summary(analysis.health, report.flags if report else []),
            **({"anomalies": analysis.anomaly} if analysis.anomaly else {}),
        })
    return analysis


def _health_summary(health: dict, flags: list[dict]) -> dict:
    """What the audit keeps of the account health: sizes and flag counts, not the figures."""
    counts: dict[str, int] = {}
    for f in flags:
        if f["rule"].startswith("health_"):
            counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    accounts = health.get("accounts", [])
    return {"accounts": len(accounts), "account_days": sum(len(a["days"]) for a in accounts),
            "outcomes_recorded": bool(health.get("outcomes_recorded")), "flags": counts}


# --- the sweep of stranded work (Celery beat) ------------------------------------------------

DERIVE_TASK = "appeals.tasks.evidence.derive_display_copies"
ANALYSE_TASK = "appeals.tasks.evidence.analyse_operation_log"


def _requeue(task_name: str, item_id: int, *, hold_seconds: int, counter) -> bool:
    """Publish the task again, at most once per hold period per item (a backlog that is only
    slow is not multiplied), and count it on the row (`counter`: a queryset and the field);
    False when the broker refused (tried again next sweep)."""
    key = f"evidence-sweep:{task_name}:{item_id}"
    if not cache.add(key, 1, hold_seconds):
        return False
    try:
        publish(task_name, item_id, retry=False)
    except Exception:
        cache.delete(key)
        logger.warning("evidence sweep: could not publish %s(%s); next sweep retries", task_name, item_id, exc_info=True)
        return False
    rows, field = counter
    rows.update(**{field: F(field) + 1})
    return True


def evidence_sweep_stranded(*, now=None) -> dict:
    """Queue again the display copies left `pending` and the log analyses left `pending` or
    `running` longer than EVIDENCE["SWEEP_AFTER_SECONDS"]: the worker that held them died (or
    the broker was down when they were queued). Both tasks are idempotent, so a run that was
    only slow and runs twice leaves one result."""
    now = now or timezone.now()
    after = settings.EVIDENCE["SWEEP_AFTER_SECONDS"]
    deadline = now - timedelta(seconds=after)
    batch = settings.EVIDENCE["SWEEP_BATCH"]
    max_requeues = settings.EVIDENCE["SWEEP_MAX_REQUEUES"]
    stranded_items = EvidenceItem.objects.filter(derived_status=DerivedStatus.PENDING, uploaded_at__lte=deadline)
    stranded_analyses = LogAnalysis.objects.filter(
        Q(status=AnalysisStatus.PENDING, evidence__uploaded_at__lte=deadline)
        | Q(status=AnalysisStatus.RUNNING, started_at__lte=deadline)
    )
    given_up = _give_up(stranded_items.filter(derive_requeues__gte=max_requeues),
                        stranded_analyses.filter(requeues__gte=max_requeues), max_requeues)
    derive_ids = list(stranded_items.filter(derive_requeues__lt=max_requeues).order_by("pk").values_list("pk", flat=True)[:batch])
    analyse_ids = list(stranded_analyses.filter(requeues__lt=max_requeues).order_by("pk").values_list("evidence_id", flat=True)[:batch])
    requeued = {
        "display_copies": sum(_requeue(DERIVE_TASK, pk, hold_seconds=after,
                                       counter=(EvidenceItem.objects.filter(pk=pk), "derive_requeues")) for pk in derive_ids),
        "log_analyses": sum(_requeue(ANALYSE_TASK, pk, hold_seconds=after,
                                     counter=(LogAnalysis.objects.filter(evidence_id=pk), "requeues")) for pk in analyse_ids),
        "given_up": given_up,
    }
    if derive_ids or analyse_ids or given_up:
        logger.info("evidence sweep: %s stranded display copies, %s stranded analyses; re-queued %s",
                    len(derive_ids), len(analyse_ids), requeued)
    return requeued


def _give_up(items, analyses, max_requeues: int) -> int:
    """Items that stranded their worker `max_requeues` times are failed, with an audit event each."""
    reason = _("Stopped after %(n)s attempts: the worker never finished it (time limit or memory).") % {"n": max_requeues}
    count = 0
    for item in items.select_related("appeal"):
        with transaction.atomic(durable=True):
            if EvidenceItem.objects.filter(pk=item.pk, derived_status=DerivedStatus.PENDING).update(derived_status=DerivedStatus.FAILED):
                audit_object(actor=None, action="evidence.derive_failed", obj=item, after={"error": reason})
                count += 1
    for analysis in analyses.select_related("evidence"):
        with transaction.atomic(durable=True):
            done = LogAnalysis.objects.filter(pk=analysis.pk, status__in=(AnalysisStatus.PENDING, AnalysisStatus.RUNNING)).update(
                status=AnalysisStatus.FAILED, error=reason, finished_at=timezone.now())
            if done:
                audit_object(actor=None, action="evidence.analyse_log", obj=analysis.evidence,
                             after={"status": AnalysisStatus.FAILED, "error": reason})
                count += 1
    return count


# --- completeness -------------------------------------------------------------------------


def evidence_required_kinds(appeal: Appeal) -> list[str]:
    """The one rule set (settings.EVIDENCE_REQUIRED): kinds this appeal must carry."""
    rules = settings.EVIDENCE_REQUIRED
    incident = appeal.incident
    required = list(rules["ALWAYS"])
    required += rules["BY_INCIDENT_KIND"].get(incident.kind, [])
    required += rules["BY_SEVERITY"].get(incident.severity, [])
    return list(dict.fromkeys(required))


@dataclass(frozen=True)
class ChecklistEntry:
    kind: str
    label: str
    required: bool
    count: int

    @property
    def satisfied(self) -> bool:
        return self.count > 0 or not self.required


def evidence_checklist(appeal: Appeal) -> list[ChecklistEntry]:
    required = set(evidence_required_kinds(appeal))
    counts = dict(EvidenceItem.objects.filter(appeal=appeal).values_list("kind").annotate(n=Count("id")))
    return [
        ChecklistEntry(kind.value, str(kind.label), kind.value in required, counts.get(kind.value, 0))
        for kind in EvidenceKind
        if kind.value in required or counts.get(kind.value)
    ]


def evidence_missing(appeal: Appeal) -> list[ChecklistEntry]:
    return [entry for entry in evidence_checklist(appeal) if not entry.satisfied]


def evidence_complete_guard(appeal, by, data) -> None:
    if not settings.EVIDENCE["ENFORCE_COMPLETENESS_ON_SUBMIT"]:
        return
    missing = evidence_missing(appeal)
    if missing:
        labels = [entry.label for entry in missing]
        raise GuardFailed(
            _("Evidence is missing: %(kinds)s.") % {"kinds": "; ".join(labels)},
            code="evidence_incomplete",
            fields={"evidence": labels},
            missing=[{"kind": entry.kind, "label": entry.label} for entry in missing],  # for links to each slot
        )


__all__ = [
    "FileType",
    "evidence_add_converted_log",
    "evidence_analyse_log",
    "evidence_checklist",
    "evidence_delete",
    "evidence_derive_display_copies",
    "evidence_record_view",
    "evidence_required_kinds",
    "evidence_upload",
]


def evidence_complete_condition(appeal: Appeal) -> str | None:
    """Auto-resolution condition: every required kind is present."""
    missing = evidence_missing(appeal)
    return None if not missing else _("missing: %(kinds)s") % {"kinds": ", ".join(str(e.label) for e in missing)}


def no_risk_flags_condition(appeal: Appeal) -> str | None:
    """Auto-resolution condition: no risk flag, and no operation log still being analysed."""
    if RiskFlag.objects.filter(appeal=appeal).exists():
        return _("the operation log raised risk flags")
    unfinished = LogAnalysis.objects.filter(evidence__appeal=appeal).exclude(status=AnalysisStatus.DONE)
    if unfinished.exists():
        return _("an operation log is not analysed yet (or its analysis failed)")
    return None

