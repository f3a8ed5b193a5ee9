"""Carries the client's IP address into the audit log for the duration of a request."""

from appeals.shared.context import request_ip


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it.
        token = request_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)



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
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
        from django.http import Http404

        from appeals.shared.exceptions import DomainError, NotFound, PermissionDenied

        if isinstance(exception, NotFound):
            raise Http404(exception.message) from None
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied(exception.message) from None
        if isinstance(exception, DomainError) and exception.status < 500:
            return self._bad_request(request, exception.message, status=exception.status, code=exception.code)
        return None

    @staticmethod
    def _bad_request(request, detail: str, field: str = "non_field_errors", *, status: int = 400, code: str = "invalid"):
        from django.http import HttpResponse, JsonResponse

        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(detail), "code": code, "fields": {field: [str(detail)]}}, status=status)
        return HttpResponse(str(detail), status=status, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _problem(request) -> tuple[str, str] | None:
        """(message, field) of the first thing refused, or None."""
        from django.utils.translation import gettext as _

        from appeals.shared.parsers import HostileJSON, loads_checked

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
