"""Request context: the client's IP for the audit log, and the request id, user and appeal
for every log line (appeals.shared.logs) and for the tasks the request queues; one access
line per request."""

import logging
import re
import time
import uuid

from appeals.shared import context

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
        # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it.
        tokens = [
            (context.request_ip, context.request_ip.set(request.META.get("REMOTE_ADDR") or None)),
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
