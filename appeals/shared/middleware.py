"""Request context: the client's IP for the audit log, the site links in mail point to, and the request id, user and appeal
for every log line (appeals.shared.logs) and for the tasks the request queues; one access
line per request."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from appeals.shared import context
from appeals.shared.client import client_ip
from appeals.shared.exceptions import DomainError, NotFound, PermissionDenied
from appeals.shared.parsers import HostileJSON, loads_checked

logger = logging.getLogger("appeals.request")

REQUEST_ID_HEADER = "X-Request-ID"
# An id handed in by a proxy (nginx's $request_id, a load balancer's) is kept when it is short
# and plain; anything else is replaced, so a client cannot write arbitrary text into the logs.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def incoming_request_id(value: str | None) -> str:
    return value if value and _SANE_ID.match(value) else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        rid = incoming_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = rid
        try:
            site = request.build_absolute_uri("/")
        except DisallowedHost:
            site = None
        # X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies vouch for it (appeals.shared.client).
        tokens = [
            (context.request_ip, context.request_ip.set(client_ip(request))),
            (context.request_site_url, context.request_site_url.set(site)),
            (context.request_id, context.request_id.set(rid)),
            (context.user_id, context.user_id.set(None)),
            (context.appeal_ref, context.appeal_ref.set(None)),
            (context.current_request, context.current_request.set(request)),
        ]
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            match = getattr(request, "resolver_match", None)
            # The route pattern, not the path, when the path carries a secret (the email link's token).
            path = match.route if match is not None and "token" in match.kwargs else request.path
            logger.info("%s %s %s", request.method, path, response.status_code, extra={
                "method": request.method, "path": path, "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            })
            return response
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        reference = view_kwargs.get("reference")
        if isinstance(reference, str):
            context.appeal_ref.set(reference)
        return None


class HostileInputMiddleware:
    """Malformed input is the client's mistake: a 4xx, never a 500.

    - NUL (U+0000) in the path, the query string, a url-encoded form or a JSON body: 400.
      PostgreSQL refuses NUL in text, so a reference or filter carrying one would fail at the
      database. (Forms and serializers refuse it field by field too; this covers what reaches a
      lookup before any form, and views whose parsers are not ours.)
    - A JSON body nested deeper than settings.JSON_MAX_DEPTH: 400 (Python's json recurses per
      level; ten thousand levels is a RecursionError).
    - A domain refusal escaping a plain Django view (another tenant's reference: NotFound):
      the matching 404 / 403 / 400 instead of a 500. API views map them themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem:
            return self._bad_request(request, *problem)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from None
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied(exception.message) from None
        if isinstance(exception, DomainError) and exception.status < 500:
            return self._bad_request(request, exception.message, status=exception.status, code=exception.code)
        return None

    @staticmethod
    def _bad_request(request, detail: str, field: str = "non_field_errors", *, status: int = 400, code: str = "invalid"):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(detail), "code": code, "fields": {field: [str(detail)]}}, status=status)
        return HttpResponse(str(detail), status=status, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _problem(request) -> tuple[str, str] | None:
        """(message, field) of the first thing refused, or None."""
        nul = (_("Text may not contain NUL (\\u0000) characters."), "non_field_errors")
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return nul[0], key.replace("\x00", "") or "non_field_errors"
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return nul
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded":
            if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.POST.lists()):
                return nul
        elif content_type == "application/json" or content_type.endswith("+json"):
            try:
                text = request.body.decode(request.encoding or "utf-8")
            except UnicodeDecodeError:
                return None  # the view's parser answers for undecodable bytes
            try:
                loads_checked(text)
            except HostileJSON as exc:
                return str(exc), exc.field or "non_field_errors"
            except ValueError:
                pass  # plain syntax errors stay the view's parser's to describe
        return None


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header from settings.PERMISSIONS_POLICY: {feature: [origins]},
    an empty list switching the feature off ("self" and quoted origins as the header spells them)."""

    def __init__(self, get_response):
        policy = getattr(settings, "PERMISSIONS_POLICY", {}) or {}
        self.header = ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in sorted(policy.items()))
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response
