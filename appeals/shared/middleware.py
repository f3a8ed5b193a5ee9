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


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header from settings.PERMISSIONS_POLICY: {feature: [origins]},
    an empty list switching the feature off ("self" and quoted origins as the header spells them)."""

    def __init__(self, get_response):
        from django.conf import settings

        policy = getattr(settings, "PERMISSIONS_POLICY", {}) or {}
        self.header = ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in sorted(policy.items()))
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response
