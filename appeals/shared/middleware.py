"""Carries the client's IP address into the audit log for the duration of a request."""

from django.core.exceptions import DisallowedHost

from appeals.shared.context import request_ip, request_site_url


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it.
        token = request_ip.set(request.META.get("REMOTE_ADDR") or None)
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
