"""Carries the client's IP address into the audit log for the duration of a request."""

from django.core.exceptions import DisallowedHost

from appeals.shared.client import client_ip
from appeals.shared.context import request_ip, request_site_url


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies vouch for it (appeals.shared.client).
        token = request_ip.set(client_ip(request))
        try:
            site = request.build_absolute_uri("/")
        except DisallowedHost:
            site = None
        site_token = request_site_url.set(site)
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
            request_site_url.reset(site_token)
