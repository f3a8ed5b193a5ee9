"""Surge fixtures: a controlled clock, a clean set of Redis counters, and synthetic traffic."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings

from appeals.models import Appeal, AppealState, BanIncident, MessagingAccount, Severity
from appeals.surge import services as surge
from tests import factories

# A fixed "now" for every scenario (a Wednesday morning in Shanghai); nothing reads the real clock.
NOW = datetime(2026, 11, 18, 10, 30, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_refs = itertools.count(1)


def _clear_surge_keys(url=None):
    """Drop this project's surge counters and the emergency cache (not FLUSHDB: the test Redis
    database also holds the Celery broker's bindings)."""
    client = surge.redis_client(url or django_settings.REDIS_URL)
    prefix = django_settings.SURGE["REDIS_PREFIX"]
    for pattern in (f"{prefix}:*", f"*{surge.EMERGENCY_CACHE_KEY}", f"*{surge.IN_PROCESS_SCAN_KEY}"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


@pytest.fixture(autouse=True)
def surge_policy_for_tests(settings):
    """Small numbers that keep scenarios short: 10-minute window, floor 10, factor 3, a week of history."""
    settings.SURGE = {
        **settings.SURGE,
        "WINDOW_MINUTES": 10,
        "FLOOR": 10,
        "FACTOR": 3.0,
        "HISTORY_DAYS": 7,
        "QUIET_WINDOWS": 3,
        "HOTLINE": "400-999-0000",
        "REDIS_PREFIX": f"surge-test-{django_settings.DATABASES['default']['TEST']['NAME']}",
    }
    url = django_settings.REDIS_URL
    _clear_surge_keys(url)
    yield
    _clear_surge_keys(url)


@pytest.fixture
def clear_surge_keys():
    url = django_settings.REDIS_URL  # taken before a test switches to embedded mode
    return lambda: _clear_surge_keys(url)


class Traffic:
    """Synthetic submissions: appeal rows with the given submitted_at, counted like live ones."""

    def __init__(self, user):
        self.user = user
        self.accounts = {}

    def account(self, enterprise, platform):
        key = (enterprise.pk, platform)
        if key not in self.accounts:
            self.accounts[key] = MessagingAccount.objects.create(
                enterprise=enterprise, platform=platform, account_id=f"bulk-{enterprise.pk}-{platform}",
                display_name=f"Bulk {platform}", account_type="operations",
            )
        return self.accounts[key]

    def submit(self, times, *, enterprise, platform="wecom", kind="short_ban", count=True, state=AppealState.FIRST_REVIEW):
        """Appeals submitted at each of `times`; with count=True each also goes through the live
        per-submission counter (Redis INCR), as the workflow listener would."""
        times = list(times)
        account = self.account(enterprise, platform)
        incidents = BanIncident.objects.bulk_create(
            BanIncident(enterprise=enterprise, account=account, banned_at=t - timedelta(hours=1), kind=kind,
                        severity=Severity.MEDIUM, created_by=self.user)
            for t in times
        )
        appeals = Appeal.objects.bulk_create(
            Appeal(reference=f"AP-T-{next(_refs):09d}", enterprise=enterprise, incident=inc, statement="bulk",
                   contact_phone="13800000000", state=state, filed_by=self.user, submitted_at=t)
            for inc, t in zip(incidents, times, strict=True)
        )
        if count and django_settings.REDIS_URL:
            counts, policy = surge.RedisCounts(), surge.surge_policy()
            slices = surge.slices_of(platform=platform, kind=kind, enterprise_id=enterprise.pk)
            for t in times:
                counts.record(slices, t, policy)
        return appeals

    def steady(self, per_window, *, enterprise, start, end, window=10, **kw):
        """A steady stream: one appeal every window/per_window minutes from start to end."""
        step = timedelta(minutes=window) / per_window
        times, t = [], end
        while t >= start:
            times.append(t)
            t -= step
        return self.submit(sorted(times), enterprise=enterprise, **kw)

    def daily(self, per_window, *, enterprise, days=7, around=NOW, before=40, after=40, today=True, **kw):
        """The same steady stream around this time of day on each of the previous `days` days
        (the history the rule learns the usual level from), and today up to `around`."""
        for day in range(1, days + 1):
            centre = around - timedelta(days=day)
            self.steady(per_window, enterprise=enterprise, start=centre - timedelta(minutes=before),
                        end=centre + timedelta(minutes=after), **kw)
        if today:
            self.steady(per_window, enterprise=enterprise, start=around - timedelta(minutes=before),
                        end=around - timedelta(minutes=5), **kw)


def spread(n, *, end, minutes):
    """n moments spread evenly inside the `minutes`-minute window whose last minute holds `end`."""
    if n <= 0:
        return []
    step = (minutes - 1) * 60 / n
    return [end - timedelta(seconds=int(step * i)) for i in range(n)]


@pytest.fixture
def traffic(db):
    return Traffic(factories.UserFactory(username="traffic-bot"))


@pytest.fixture
def managers(db):
    return [
        factories.UserFactory(username="manager", is_manager=True, is_staff=True, email="manager@desk.example", phone="13900000001"),
        factories.UserFactory(username="manager-2", is_manager=True, is_staff=True, email="manager2@desk.example", phone="13900000002"),
    ]
