"""Concurrent submissions on real PostgreSQL and Redis never open two alerts for one slice."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from appeals.core.services import appeals as appeal_services
from appeals.models import AuditEvent, SurgeAlert
from appeals.surge import services as surge
from tests import builders, factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def run_together(n, fn):
    """Run fn(i) in n threads released at the same instant; each thread uses its own connection."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_racing_openers_exactly_one_wins():
    policy = surge.surge_policy()
    verdict = surge.surge_rule(count=50, history=[2] * 7, floor=10, factor=3.0)
    now = timezone.now()
    results = run_together(12, lambda i: surge.surge_alert_open(slice_=surge.ALL_SLICE, verdict=verdict, policy=policy, now=now))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and results.count(None) == 11
    assert SurgeAlert.objects.filter(dimension="all").count() == 1
    assert AuditEvent.objects.filter(action="surge.open").count() == 1


def test_many_concurrent_submissions_open_exactly_one_alert_per_slice(enterprise, enterprise_admin, settings):
    # 30 submissions text one legal representative 30 codes: above the per-phone daily SMS cap.
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 100}
    account = factories.AccountFactory(enterprise=enterprise)
    drafts = []
    for i in range(30):
        incident = factories.IncidentFactory(account=account, created_by=enterprise_admin)
        drafts.append(
            appeal_services.appeal_create(by=enterprise_admin, incident=incident, statement="Ban wave", contact_phone=f"1370000{i:04d}")
        )
        builders.attach_required_evidence(drafts[-1], enterprise_admin)

    # Each thread submits through the real workflow; the listener counts in Redis after commit.
    run_together(len(drafts), lambda i: appeal_services.appeal_submit(appeal=drafts[i], by=enterprise_admin))

    alerts = list(SurgeAlert.objects.values_list("dimension", "value"))
    assert sorted(alerts) == sorted(
        [("all", ""), ("platform", account.platform), ("kind", "short_ban"), ("enterprise", str(enterprise.pk))]
    )
    counts = surge.surge_evaluate(slices=[surge.ALL_SLICE], now=timezone.now(), policy=surge.surge_policy())
    assert counts[surge.ALL_SLICE].count == 30  # every submission counted once, none lost
