"""System checks for the outbox's time limits (registered by the notifications plug-in)."""

from django.conf import settings
from django.core import checks


def check_time_limits(app_configs=None, **kwargs):
    """A send must be killed before its lease lapses, and both before Redis redelivers it."""
    n = settings.NOTIFICATIONS
    visibility = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout", 3600)
    if not n["TASK_SOFT_TIME_LIMIT"] <= n["TASK_TIME_LIMIT"] < n["SEND_LEASE_SECONDS"] < visibility:
        return [checks.Error(
            "Notification time limits must satisfy soft <= hard time limit < send lease < broker visibility timeout "
            f"(now {n['TASK_SOFT_TIME_LIMIT']} / {n['TASK_TIME_LIMIT']} / {n['SEND_LEASE_SECONDS']} / {visibility} s).",
            id="appeals.E401")]
    return []


def check_sms_providers(app_configs=None, **kwargs):
    """With the failover backend: every provider named exists, and one attempt that tries them
    all in turn (each up to its timeout) ends before the delivery task's soft time limit."""
    if not settings.SMS_BACKEND.endswith(".failover.SmsBackend"):
        return []
    names = [n for n in settings.SMS_PROVIDERS if n]
    unknown = [n for n in names if n not in settings.SMS_PROVIDER_BACKENDS]
    if not names or unknown:
        return [checks.Error(f"SMS_PROVIDERS names unknown providers {unknown or '(none given)'}; "
                             f"known: {', '.join(settings.SMS_PROVIDER_BACKENDS)}.", id="appeals.E402")]
    total = sum(float(getattr(settings, f"{n.upper()}_SMS", {}).get("TIMEOUT_SECONDS", 0)) for n in names)
    if total >= settings.NOTIFICATIONS["TASK_SOFT_TIME_LIMIT"]:
        return [checks.Error(
            f"The SMS providers' timeouts add up to {total:g} s, not below the delivery task's soft time limit "
            f"({settings.NOTIFICATIONS['TASK_SOFT_TIME_LIMIT']} s): a failover attempt could be killed mid-way.",
            id="appeals.E403")]
    return []
