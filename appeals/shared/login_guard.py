"""Password-guessing limits for the sign-in page and the token endpoint (django-axes policy).

Axes records every failed sign-in in the database (AccessAttempt rows per username, address
and user agent; the database handler, so a Redis outage does not open or break sign-in).
This handler decides, from those rows within AXES_COOLOFF_TIME, whether one more attempt
from this address for this username is refused:

- per account and address: LOGIN_GUARD["PAIR_LIMIT"] failures for this username from this
  address;
- per address: LOGIN_GUARD["ADDRESS_LIMIT"] failures from this address, whatever the usernames;
- per account, the slowdown: once an account has LOGIN_GUARD["ACCOUNT_LIMIT"] failures from
  anywhere, every address that has already failed on it is refused (one guess per address
  per cool-off instead of PAIR_LIMIT), while an address with no failure on it still gets
  its attempt. So someone else's failures never refuse the real user's correct password
  from a different address: there is no lockout to use as a weapon.

The address is appeals.shared.client.client_ip (AXES_CLIENT_IP_CALLABLE).
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def limits() -> dict:
    return settings.LOGIN_GUARD


def _sum(**filters) -> int:
    return AccessAttempt.objects.filter(**filters).aggregate(n=Sum("failures_since_start"))["n"] or 0


def failure_counts(request, credentials=None) -> dict:
    """Failures within the cool-off: this username from this address, this address, this username."""
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    since = now - get_cool_off(request)
    return {
        "pair": _sum(username=username, ip_address=address, attempt_time__gte=since) if username is not None else 0,
        "address": _sum(ip_address=address, attempt_time__gte=since),
        "account": _sum(username=username, attempt_time__gte=since) if username is not None else 0,
    }


def refused(counts: dict) -> bool:
    rule = limits()
    return (
        counts["pair"] >= rule["PAIR_LIMIT"]
        or counts["address"] >= rule["ADDRESS_LIMIT"]
        or (counts["account"] >= rule["ACCOUNT_LIMIT"] and counts["pair"] >= 1)
    )


class LoginGuardHandler(AxesDatabaseHandler):
    """Axes' database handler with the three limits above instead of one counter."""

    def get_failures(self, request, credentials=None) -> int:
        # Axes compares this number with AXES_FAILURE_LIMIT (= PAIR_LIMIT): report the limit
        # itself when any rule refuses, the pair's own count otherwise.
        counts = failure_counts(request, credentials)
        if refused(counts):
            return max(counts["pair"], settings.AXES_FAILURE_LIMIT)
        return min(counts["pair"], settings.AXES_FAILURE_LIMIT - 1)
