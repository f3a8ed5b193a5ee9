"""Carries the client's IP address into the audit log for the duration of a request."""

from appeals.shared.client import client_ip
from appeals.shared.context import request_ip


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies vouch for it (appeals.shared.client).
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
