"""The `Idempotency-Key` request header on every POST of the API (IETF draft "The
Idempotency-Key HTTP Header Field"): a retried request is answered with the first answer,
never carried out twice.

How it works (a middleware, so that every POST under /api/ is covered whichever view answers):

- The key is the client's own, scoped to the client: (user, key). Requests without a user
  (the password login) are not covered: there is nobody to scope the key to.
- The first request with a key inserts an `IdempotencyRecord` (unique on identity and key) in
  its own short transaction before the view runs, carrying a fingerprint of the request
  (SHA-256 of method, path with query string, body; for a multipart upload the media type
  and length stand in for the body). The view then runs as usual (its services open their
  own durable transactions) and the answer is stored: status, content type, Location, body
  (encrypted: an answer may carry a secret shown once).
- The same key again with the same fingerprint gets the stored answer, with the header
  `Idempotent-Replayed: true`; with another fingerprint, 422 (`idempotency_key_reused`).
- The same key while the first request is still running: the second waits (polling, at most
  IDEMPOTENCY["WAIT_SECONDS"]) and then gets the first answer; if the first is still running
  then, 409 (`idempotency_in_progress`, with Retry-After). A record left "running" by a process
  that died is taken over after IDEMPOTENCY["STALE_SECONDS"].
- Which answers are kept: every answer below 500 except 401, 403 (credentials, CSRF: nothing ran),
  409 (state conflicts: a retry may rightly differ) and 429 (throttled: nothing ran). For those,
  and for a 5xx or an exception, the record is removed and a retry with the key runs again.
- Keys expire IDEMPOTENCY["TTL_HOURS"] (24 h) after the first request; an expired key is a new
  key, and the beat task `appeals.tasks.api.idempotency_sweep` deletes expired records.
- A key is 1 to 255 printable ASCII characters without surrounding spaces (a UUID is the usual
  choice; the draft's quoted form `"..."` is taken as it is); anything else is a 400.
"""

import hashlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from appeals.api.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"  # the schema's pattern (appeals/api/schema.py)
MAX_KEY_LENGTH = 255
API_PREFIX = "/api/"
NOT_KEPT = frozenset({401, 403, 409, 429})
REPLAYED_HEADERS = ("Location", "Retry-After")
POLL_SECONDS = 0.05


def _conf(name: str):
    return settings.IDEMPOTENCY[name]


def valid_key(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and value == value.strip() and all(32 <= ord(c) <= 126 for c in value)


def _error(status: int, detail: str, code: str, fields: dict | None = None, **headers) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code, "fields": fields or {}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _identity(request) -> str | None:
    """The client the key belongs to: the token's user, else the session's user."""
    from appeals.core.api.auth import TokenAuthentication  # the shell may use the core's authentication

    try:
        found = TokenAuthentication().authenticate(Request(request))
    except APIException:
        return None  # a bad token: the view answers 401, nothing to remember
    if found is not None:
        return f"user:{found[0].pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def fingerprint(request) -> str | None:
    """SHA-256 over method, full path and body; None if the body cannot be read here (too big:
    the view answers 413)."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/"):
        # An upload is not read into memory here: its media type and length stand in for the body
        # (not the boundary, which a client draws anew for each attempt).
        digest.update(f"{content_type.split(';')[0].strip()}\n{request.META.get('CONTENT_LENGTH', '')}".encode())
    else:
        try:
            digest.update(request.body)
        except RequestDataTooBig:
            return None
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(str(record.body).encode(), status=record.status_code, content_type=record.content_type or None)
    for name, value in (record.headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _mismatch() -> JsonResponse:
    return _error(422, _("This Idempotency-Key was already used with a different request."), "idempotency_key_reused",
                  {HEADER: [_("Use a new key for a new request.")]})


class IdempotencyMiddleware:
    """Answers a repeated POST under /api/ with the first answer (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith(API_PREFIX) or META_KEY not in request.META:
            return self.get_response(request)
        key = request.META[META_KEY]
        if not valid_key(key):
            return _error(400, _("Invalid input."), "invalid", {HEADER: [
                _("An Idempotency-Key is 1 to 255 printable ASCII characters without surrounding spaces.")]})
        identity = _identity(request)
        print_ = fingerprint(request)
        if identity is None or print_ is None:
            return self.get_response(request)
        outcome = self._claim(request, identity, key, print_)
        if isinstance(outcome, HttpResponse):
            return outcome
        return self._run(request, outcome)

    def _claim(self, request, identity: str, key: str, print_: str):
        """Our own new record (we run the request), or the answer to give instead."""
        deadline = time.monotonic() + _conf("WAIT_SECONDS")
        while True:
            now = timezone.now()
            record = IdempotencyRecord(
                identity=identity, key=key, fingerprint=print_, method=request.method, path=request.get_full_path()[:2000],
                started_at=now, expires_at=now + timedelta(hours=_conf("TTL_HOURS")),
            )
            try:
                with transaction.atomic():
                    record.save(force_insert=True)
                return record
            except IntegrityError:
                pass
            existing = IdempotencyRecord.objects.filter(identity=identity, key=key).first()
            if existing is None:
                continue  # removed meanwhile (the first answer was not kept): try to be first again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue  # an expired key is a new key
            if existing.fingerprint != print_:
                return _mismatch()
            if existing.completed_at is not None:
                return _replay(existing)
            stale = now - timedelta(seconds=_conf("STALE_SECONDS"))
            if existing.started_at < stale:
                # Left running by a process that died: take it over (one taker wins the update).
                if IdempotencyRecord.objects.filter(pk=existing.pk, completed_at__isnull=True, started_at__lt=stale).update(started_at=now):
                    existing.started_at = now
                    return existing
                continue
            if time.monotonic() >= deadline:
                return _error(409, _("A request with this Idempotency-Key is still being processed. Try again shortly."),
                              "idempotency_in_progress", Retry_After="1")
            time.sleep(POLL_SECONDS)

    def _run(self, request, record: IdempotencyRecord) -> HttpResponse:
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()
            raise
        if not self._keep(response):
            IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            body=response.content.decode("utf-8"),  # encrypted by the field
            completed_at=timezone.now(),
        )
        return response

    @staticmethod
    def _keep(response) -> bool:
        if response.status_code >= 500 or response.status_code in NOT_KEPT or getattr(response, "streaming", False):
            return False
        try:
            response.content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


def sweep_expired(*, now=None) -> int:
    """Delete the records whose key has expired; the number deleted."""
    deleted, _detail = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
