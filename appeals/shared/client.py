"""The client's address, the one way: REMOTE_ADDR unless the site sits behind trusted proxies.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
the site's own proxies wrote it: with TRUSTED_PROXY_COUNT = N proxies in front, each appends
the address it received the request from, and the N-th entry from the right is the address
the outermost trusted proxy saw. With N = 0 (the default) the header is ignored entirely.
The same rule is given to DRF's throttles (REST_FRAMEWORK["NUM_PROXIES"]), to login
protection (AXES_CLIENT_IP_CALLABLE) and to the audit trail (RequestContextMiddleware).
"""

import ipaddress

from django.conf import settings


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address this request came from, as far as the site's own proxies can vouch for it."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    if proxies <= 0 or not forwarded:
        return _valid(remote)
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return _valid(remote)
    # Same choice as DRF's BaseThrottle.get_ident with NUM_PROXIES = N, so every counter agrees.
    return _valid(hops[-min(proxies, len(hops))]) or _valid(remote)
