"""The OpenAPI schema: one English document whatever the request language, and every error
status documented with the one error body (appeals/api/errors.py). Served by appeals/api/docs.py.
"""

import copy

from django.utils import translation
from django.utils.functional import Promise
from drf_spectacular.generators import SchemaGenerator

SCHEMA_LANGUAGE = "en"
ERROR_COMPONENT = "ErrorOutput"

# What each error status means, for the operations it can happen on (appeals/api/errors.py).
ERROR_DESCRIPTIONS = {
    400: "Invalid input: `fields` maps each field (or `non_field_errors`) to its messages.",
    401: "Not authenticated: no credentials, or an unknown token.",
    403: "Authenticated, but this role or person may not do this.",
    404: "No such object for you (another tenant's objects do not exist for you), or a page past the end.",
    406: "The Accept header names no media type this operation answers with.",
    409: "The case's state does not allow this now (an invalid transition or a failed guard); on a POST, "
         "also a request with the same Idempotency-Key still being processed (`idempotency_in_progress`, "
         "see Retry-After).",
    413: "The request body is larger than the server accepts.",
    415: "The body's Content-Type is not one this operation takes (JSON, or multipart for the upload).",
    422: "The Idempotency-Key was already used with a different request (`idempotency_key_reused`).",
    429: "Too many requests: see the Retry-After header (and `retry_after`).",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}

# The Idempotency-Key header (appeals/api/idempotency.py), declared on every POST operation.
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "A key of the client's choosing (a UUID, say) that makes this POST safe to retry: within 24 hours "
        "a request repeated with the same key and the same body is not carried out again; it gets the "
        "first answer, with the header `Idempotent-Replayed: true`. The same key with another request "
        "is refused (422); while the first request with the key is still running, a second waits and "
        "then gets its answer, or 409 if it takes too long. Answers 401, 403, 409, 429 and 5xx are not "
        "kept: a retry runs again. Keys are per user (a request with no user, the password login, is not covered)."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]{0,253}[!-~])?$"},
}
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _plain(value):
    """Lazy (translatable) strings rendered now, while the schema language is active."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


class EnglishSchemaGenerator(SchemaGenerator):
    """Names (components, enums) and texts in English whatever the request's language: a
    generated client must not get `V1AppealsList状态` for one user and `...Status` for another."""

    def get_schema(self, request=None, public=False):
        with translation.override(SCHEMA_LANGUAGE):
            return _plain(super().get_schema(request=request, public=public))


def _error_statuses(method: str, operation: dict) -> list[int]:
    statuses = [400, 404, 406, 429]
    if method == "post":
        statuses += [409, 422]  # the Idempotency-Key: still in progress; reused with another request
    if operation.get("security") != [] and operation.get("security") != [{}]:
        statuses += [401, 403]
    if method in WRITE_METHODS:
        statuses += [403, 409]
    if "requestBody" in operation:
        statuses += [413, 415]
    return sorted(set(statuses))


def document_error_responses(result, generator, request, public):
    """Postprocessing hook: every operation lists each error status it can answer with
    (the application's own 4xx; not 405 for a method the path does not have),
    as application/json with the one error body (appeals.core.api.serializers.ErrorOutput);
    optional query parameters say they may be sent empty; every POST takes the Idempotency-Key
    header (and its answers may carry Idempotent-Replayed)."""
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    if ERROR_COMPONENT not in result.get("components", {}).get("schemas", {}):
        from drf_spectacular.openapi import AutoSchema

        from appeals.core.api.serializers import ErrorOutput

        component = AutoSchema()._map_serializer(ErrorOutput, "response")
        result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = component
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            for parameter in operation.get("parameters", []):
                # An optional filter sent empty (`?state=`) means "no filter" (django-filter, DRF).
                if (parameter.get("in") == "query" and not parameter.get("required")
                        and parameter.get("schema", {}).get("type") != "array"):
                    parameter["allowEmptyValue"] = True
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(copy.deepcopy(IDEMPOTENCY_PARAMETER))
            responses = operation.setdefault("responses", {})
            for code in _error_statuses(method, operation):
                response = responses.setdefault(str(code), {"description": ERROR_DESCRIPTIONS[code]})
                if not response.get("description"):
                    response["description"] = ERROR_DESCRIPTIONS[code]
                response["content"] = {"application/json": {"schema": ref}}
            if method == "post":
                for code, response in responses.items():
                    if code[0] in "24" and code not in ("401", "403", "409", "429"):
                        response.setdefault("headers", {}).update(copy.deepcopy(REPLAYED_HEADER))
    return result
