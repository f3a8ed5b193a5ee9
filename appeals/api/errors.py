"""The one place where errors become HTTP: a stable JSON body {detail, code, fields}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from appeals.shared.exceptions import DomainError, RateLimited


def _body(detail, code, fields=None, **extra) -> dict:
    body = {"detail": str(detail), "code": code, "fields": fields or {}}
    body.update({k: v for k, v in extra.items() if isinstance(v, str | int | float | bool) or v is None})
    return body


def _flatten(data) -> dict:
    """DRF's nested error dict -> {field: [messages]} (nested paths joined with dots)."""
    out: dict[str, list[str]] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(f"{prefix}.{i}" if prefix else str(i), sub)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", data)
    return out


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(_body(exc.message, exc.code, exc.fields, **exc.extra), status=exc.status)
        if isinstance(exc, RateLimited) and exc.extra.get("retry_after") is not None:
            response["Retry-After"] = str(int(exc.extra["retry_after"]))
        return response
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(_body("Invalid input.", "invalid", fields), status=400)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return Response(_body(_("The request body is too large."), "too_large"), status=413)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, drf.ValidationError):
        response.data = _body("Invalid input.", "invalid", _flatten(exc.detail))
    else:
        codes = exc.get_codes() if isinstance(exc, drf.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else str(exc)
        response.data = _body(detail, code)
    return response


# --- Django's own error views: JSON under /api/, the HTML pages elsewhere --------------------
# An error raised outside a DRF view (an unknown /api/ URL, a crash in middleware, a refused
# Host header) reaches these handlers (config/urls.py); API clients still get {detail, code, fields}.

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json_error(status: int, detail, code: str) -> JsonResponse:
    return JsonResponse(_body(detail, code), status=status)


def bad_request(request, exception=None):
    if _is_api(request):
        return _json_error(400, _("Bad request."), "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return _json_error(403, _("You do not have permission to perform this action."), "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return _json_error(404, _("Not found."), "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _json_error(500, _("Server error: the error has been logged."), "server_error")
    return defaults.server_error(request)
