"""Writes of the platform connection: connect / rotate / disconnect the enterprise's WeCom app,
pull an appeal's operation records from WeCom into its evidence, or take them from an uploaded
export. Every action is audited; the secret is never logged, audited or returned."""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object
from appeals.core.models import Appeal
from appeals.evidence.models import FileType
from appeals.evidence.services import ADDABLE_STATES, evidence_add_converted_log
from appeals.platform.files import read_export
from appeals.platform.models import PullRun, PullState, WeComConnection
from appeals.platform.ratelimit import RateLimiter
from appeals.platform.records import records_from_document, to_csv
from appeals.platform.wecom import Token, WeComClient, WeComError, split_windows
from appeals.shared.db import entry_point
from appeals.shared.exceptions import DomainError, GuardFailed, PermissionDenied, ValidationFailed
from appeals.shared.tasks import publish_on_commit

logger = logging.getLogger(__name__)

PULL_TASK = "appeals.tasks.platform.pull_operation_records"


def require_enterprise_admin(by, enterprise_id: int) -> None:
    if not (by.is_authenticated and by.enterprise_id is not None and by.enterprise_id == enterprise_id):
        raise PermissionDenied(_("Only an admin of the enterprise may manage its WeCom connection."))


def _clean_credentials(corp_id: str, corp_secret: str | None) -> tuple[str, str | None]:
    corp_id = (corp_id or "").strip()
    errors = {}
    if not corp_id or len(corp_id) > 64 or not corp_id.isascii() or not corp_id.replace("_", "").isalnum():
        errors["corp_id"] = [_("Enter the corp ID from the WeCom admin console (letters and digits, e.g. ww0123456789abcdef).")]
    if corp_secret is not None:
        corp_secret = corp_secret.strip()
        if not corp_secret or len(corp_secret) > 128 or not corp_secret.isascii() or any(c.isspace() for c in corp_secret):
            errors["corp_secret"] = [_("Enter the app's secret from the WeCom admin console.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return corp_id, corp_secret


@entry_point
def wecom_connect(*, by, corp_id: str, corp_secret: str) -> WeComConnection:
    """Connect the admin's enterprise to its WeCom app. One connection per enterprise."""
    require_enterprise_admin(by, by.enterprise_id)
    corp_id, corp_secret = _clean_credentials(corp_id, corp_secret)
    if WeComConnection.objects.select_for_update().filter(enterprise_id=by.enterprise_id).exists():
        raise GuardFailed(_("The enterprise is already connected; replace the secret or disconnect first."),
                          code="already_connected")
    connection = WeComConnection.objects.create(enterprise_id=by.enterprise_id, corp_id=corp_id, corp_secret=corp_secret,
                                                api_base=settings.WECOM_API_BASE, connected_by=by)
    audit_object(actor=by, action="wecom.connect", obj=connection,
                 after={"corp_id": corp_id, "secret": "set", "api_base": connection.api_base})
    return connection


@entry_point
def wecom_rotate_secret(*, connection: WeComConnection, by, corp_secret: str) -> WeComConnection:
    """Replace the app's secret (after it was reset in the WeCom console); the cached token goes with the old one."""
    require_enterprise_admin(by, connection.enterprise_id)
    _corp, corp_secret = _clean_credentials(connection.corp_id, corp_secret)
    locked = WeComConnection.objects.select_for_update().get(pk=connection.pk)
    locked.corp_secret = corp_secret
    locked.access_token, locked.access_token_expires_at = "", None
    locked.rotated_at = timezone.now()
    locked.save(update_fields=["corp_secret", "access_token", "access_token_expires_at", "rotated_at"])
    audit_object(actor=by, action="wecom.rotate_secret", obj=locked, after={"corp_id": locked.corp_id, "secret": "replaced"})
    return locked


@entry_point
def wecom_disconnect(*, connection: WeComConnection, by) -> None:
    """Forget the app's credentials. Pulls already stored as evidence stay."""
    require_enterprise_admin(by, connection.enterprise_id)
    locked = WeComConnection.objects.select_for_update().get(pk=connection.pk)
    if PullRun.objects.filter(enterprise_id=locked.enterprise_id, state__in=(PullState.QUEUED, PullState.RUNNING)).exists():
        raise GuardFailed(_("A pull of operation records is running; disconnect when it has finished."), code="pull_running")
    audit_object(actor=by, action="wecom.disconnect", obj=locked, before={"corp_id": locked.corp_id})
    locked.delete()


# --- the pull -----------------------------------------------------------------------------------


def pull_window(appeal: Appeal, *, now=None) -> tuple:
    """[ban - LOOKBACK_DAYS, ban), refused when WeCom no longer keeps it (MAX_AGE_DAYS)."""
    now = now or timezone.now()
    conf = settings.WECOM
    end = min(appeal.incident.banned_at, now - timedelta(seconds=1))
    start = appeal.incident.banned_at - timedelta(days=conf["LOOKBACK_DAYS"])
    if start < now - timedelta(days=conf["MAX_AGE_DAYS"]):
        raise GuardFailed(
            _("WeCom keeps operation records for %(days)s days only, and the 7 days before this ban began earlier; "
              "upload the records you exported at the time instead.") % {"days": conf["MAX_AGE_DAYS"]},
            code="records_too_old")
    if end <= start:
        raise GuardFailed(_("The ban has no past 7 days to pull yet."), code="records_window_empty")
    return start, end


@entry_point
def wecom_pull_start(*, appeal: Appeal, by) -> PullRun:
    """Queue a pull of the 7 days of member and admin operation records before the appeal's ban."""
    require_enterprise_admin(by, appeal.enterprise_id)
    locked = Appeal.objects.select_for_update().select_related("incident").get(pk=appeal.pk)
    if locked.state not in ADDABLE_STATES:
        raise GuardFailed(_("Evidence can no longer be changed: the appeal is %(state)s.") % {"state": locked.get_state_display()},
                          code="evidence_locked")
    if not WeComConnection.objects.filter(enterprise_id=locked.enterprise_id).exists():
        raise GuardFailed(_("Connect the enterprise's WeCom app first (WeCom connection, under your account)."),
                          code="not_connected")
    start, end = pull_window(locked)
    windows = split_windows(start, end, max_days=settings.WECOM["MAX_SPAN_DAYS"])
    _fail_stale_runs(locked)
    try:
        with transaction.atomic():
            run = PullRun.objects.create(appeal=locked, enterprise_id=locked.enterprise_id, requested_by=by,
                                         window_start=start, window_end=end, windows_total=len(windows))
    except IntegrityError:
        raise GuardFailed(_("A pull of operation records is already running for this appeal."), code="pull_running") from None
    audit_object(actor=by, action="wecom.pull_requested", obj=locked,
                 after={"run": run.pk, "from": start.isoformat(), "until": end.isoformat(), "windows": len(windows)})
    publish_on_commit(PULL_TASK, run.pk)
    return run


def _fail_stale_runs(appeal: Appeal) -> None:
    """A run left queued or running past STALE_AFTER_SECONDS lost its worker (or its message):
    failed, audited, so that it no longer blocks a new pull of the appeal."""
    deadline = timezone.now() - timedelta(seconds=settings.WECOM["STALE_AFTER_SECONDS"])
    reason = _("The pull did not finish: its worker stopped. Start it again.")
    for run in PullRun.objects.filter(appeal=appeal, state__in=(PullState.QUEUED, PullState.RUNNING), created_at__lt=deadline):
        PullRun.objects.filter(pk=run.pk).update(state=PullState.FAILED, error=reason, finished_at=timezone.now())
        audit_object(actor=None, action="wecom.pull_failed", obj=appeal, after={"run": run.pk, "error": reason})


def _progress(run_id: int, **changes) -> None:
    PullRun.objects.filter(pk=run_id).update(**changes)


def _store_token(connection_id: int, token: Token) -> None:
    with transaction.atomic(durable=True):
        connection = WeComConnection.objects.select_for_update().get(pk=connection_id)
        connection.access_token, connection.access_token_expires_at = token.value, token.expires_at
        connection.save(update_fields=["access_token", "access_token_expires_at"])
        audit_object(actor=None, action="wecom.token_refreshed", obj=connection,
                     after={"corp_id": connection.corp_id, "expires_at": token.expires_at.isoformat()})


def _finish(run: PullRun, *, state: str, error: str = "", evidence=None, figures: dict | None = None) -> None:
    with transaction.atomic(durable=True):
        PullRun.objects.filter(pk=run.pk).update(state=state, error=error[:2000], evidence=evidence, finished_at=timezone.now())
        run.refresh_from_db()
        audit_object(actor=None, action="wecom.pull_done" if state == PullState.DONE else "wecom.pull_failed",
                     obj=run.appeal, after={"run": run.pk, "pages": run.pages_fetched, "records": run.records,
                                            "retries": run.retries, "error": error[:500],
                                            **({"evidence": str(evidence.uuid)} if evidence else {}), **(figures or {})})


def wecom_pull_execute(*, run_id: int, sleep=None) -> PullRun:
    """The Celery task's work: fetch every page, store the pages as evidence (JSON original, its
    SHA-256, the converted CSV the analysis reads). Idempotent: a finished run is left alone; a
    redelivered running one starts again (nothing is stored until the last page is in)."""
    run = PullRun.objects.select_related("appeal", "appeal__incident", "requested_by").get(pk=run_id)
    if run.state in (PullState.DONE, PullState.FAILED):
        return run
    _progress(run.pk, state=PullState.RUNNING, started_at=timezone.now(), pages_fetched=0, records=0, retries=0, error="")
    connection = WeComConnection.objects.filter(enterprise_id=run.enterprise_id).first()
    if connection is None:
        _finish(run, state=PullState.FAILED, error=_("The WeCom connection was removed before the pull ran."))
        return run
    conf = settings.WECOM
    token = (Token(connection.access_token, connection.access_token_expires_at)
             if connection.access_token and connection.access_token_expires_at else None)
    document = {"source": "wecom", "corp_id": connection.corp_id, "appeal": run.appeal.reference,
                "start_time": int(run.window_start.timestamp()), "end_time": int(run.window_end.timestamp()),
                "member": [], "admin": []}
    client = WeComClient(
        api_base=connection.api_base, corp_id=connection.corp_id, corp_secret=connection.corp_secret,
        limiter=RateLimiter(connection.corp_id), token=token,
        on_token=lambda t: _store_token(connection.pk, t),
        on_retry=lambda reason: _progress(run.pk, retries=F("retries") + 1),
        max_retries=conf["MAX_RETRIES"], backoff_base=conf["BACKOFF_BASE"], backoff_max=conf["BACKOFF_MAX"],
        timeout=conf["TIMEOUT"], **({"sleep": sleep} if sleep else {}),
    )
    try:
        with client:
            for start, end in split_windows(run.window_start, run.window_end, max_days=conf["MAX_SPAN_DAYS"]):
                for kind in ("member", "admin"):
                    # end_time is inclusive in WeCom's API: the window's last second.
                    for page in client.pages(kind, start=int(start.timestamp()), end=int(end.timestamp()) - 1,
                                             limit=conf["PAGE_LIMIT"], max_pages=conf["MAX_PAGES"]):
                        document[kind].append(page)
                        _progress(run.pk, pages_fetched=F("pages_fetched") + 1,
                                  records=F("records") + len(page.get("record_list") or []))
        _progress(run.pk, token_refreshes=client.token_refreshes)
        raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        converted, rows = to_csv(records_from_document(document))
        upload = ContentFile(raw, name=f"wecom-operation-records-{run.appeal.reference}.json")
        item = evidence_add_converted_log(appeal=run.appeal, by=run.requested_by, file=upload, file_type=FileType.JSON,
                                          original_name=upload.name, converted_csv=converted, source="wecom_pull")
    except WeComError as exc:
        logger.warning("wecom pull %s failed: %s", run.pk, exc)  # errcode and errmsg only; never the secret or token
        _finish(run, state=PullState.FAILED, error=exc.message + (f" (errcode {exc.errcode})" if exc.errcode is not None else ""))
        return run
    except DomainError as exc:
        _finish(run, state=PullState.FAILED, error=exc.message)
        return run
    except Exception as exc:
        logger.exception("wecom pull %s crashed", run.pk)
        _finish(run, state=PullState.FAILED, error=_("The pull failed unexpectedly (%(kind)s); try again.") % {"kind": type(exc).__name__})
        return run
    _finish(run, state=PullState.DONE, evidence=item, figures={"rows": rows, "calls": client.calls,
                                                               "token_refreshes": client.token_refreshes})
    return run


# --- an uploaded export ------------------------------------------------------------------------


@entry_point
def wecom_records_upload(*, appeal: Appeal, by, file):
    """The same records, exported from the WeCom console (CSV/XLSX) or saved from the API (JSON), uploaded."""
    require_enterprise_admin(by, appeal.enterprise_id)
    if file is None:
        raise ValidationFailed(fields={"file": [_("Choose a file to upload.")]})
    export = read_export(file)
    if not export.records:
        raise ValidationFailed(_("The file holds no operation records."), code="no_records",
                               fields={"file": [_("The file holds no operation records.")]})
    converted, rows = to_csv(export.records)
    item = evidence_add_converted_log.nested(appeal=appeal, by=by, file=file, file_type=export.file_type,
                                             original_name=getattr(file, "name", ""), converted_csv=converted,
                                             source="wecom_file")
    audit_object(actor=by, action="wecom.records_uploaded", obj=appeal,
                 after={"evidence": str(item.uuid), "file_type": export.file_type, "records": rows})
    return item
