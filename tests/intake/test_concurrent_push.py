"""Two pushes of the same incident at the same instant, on real PostgreSQL connections (one per
thread): one incident, and both answers are the first answer.

To make the two requests overlap for certain, the test holds a lock on the incident table that
the first push needs, until the second push has arrived and is waiting on the first."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from appeals.api.models import IdempotencyRecord
from appeals.core.models import BanIncident
from tests.intake.conftest import client_with, push_body, token_key

URL = "/api/v1/intake/incidents/"

pytestmark = [pytest.mark.django_db(transaction=True)]


def _push_in_threads(key, body, *, headers, hold_until):
    """Send two identical pushes at once while the incident table is locked; release when
    `hold_until()` is true (or after 5 s). Returns both responses."""
    responses, barrier = [None, None], threading.Barrier(2)

    def push(i):
        try:
            barrier.wait()
            responses[i] = client_with(key).post(URL, body, format="json", **headers)
        finally:
            connections.close_all()

    with transaction.atomic():
        # Inserts into the incident table wait until this transaction ends.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {BanIncident._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while not hold_until() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the second request is now waiting (on the key, or on the unique index)
    for t in threads:
        t.join(timeout=30)
    return responses


def test_the_same_push_twice_at_once_with_one_key_creates_one_incident(manager, enforcement, account):
    first, second = _push_in_threads(
        token_key(manager, enforcement), push_body(account), headers={"HTTP_IDEMPOTENCY_KEY": "concurrent-1"},
        hold_until=lambda: IdempotencyRecord.objects.filter(key="concurrent-1").exists(),
    )

    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert first.content == second.content
    assert sorted(r.has_header("Idempotent-Replayed") for r in (first, second)) == [False, True]
    assert BanIncident.objects.count() == 1


def test_the_same_external_id_twice_at_once_without_a_key_creates_one_incident(manager, enforcement, account):
    first, second = _push_in_threads(token_key(manager, enforcement), push_body(account, external_id="ENF-77"), headers={}, hold_until=lambda: False)

    assert sorted([first.status_code, second.status_code]) == [200, 201], (first.content, second.content)
    assert first.json()["id"] == second.json()["id"]
    assert BanIncident.objects.count() == 1


def test_a_second_request_that_waits_too_long_gets_409_then_the_first_answer(manager, enforcement, account, settings):
    settings.IDEMPOTENCY = {**settings.IDEMPOTENCY, "WAIT_SECONDS": 0.2}
    key = token_key(manager, enforcement)
    client = client_with(key)
    body, headers = push_body(account), {"HTTP_IDEMPOTENCY_KEY": "slow-1"}
    answers = []

    def first():
        try:
            answers.append(client.post(URL, body, format="json", **headers))
        finally:
            connections.close_all()

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {BanIncident._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        thread = threading.Thread(target=first)
        thread.start()
        while not IdempotencyRecord.objects.filter(key="slow-1").exists():
            time.sleep(0.02)
        waiting = threading.Thread(target=lambda: (answers.append(client_with(key).post(URL, body, format="json", **headers)),
                                                   connections.close_all()))
        waiting.start()
        waiting.join(timeout=10)
    thread.join(timeout=10)

    busy, done = answers[0], answers[1]
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress" and busy["Retry-After"] == "1"
    assert done.status_code == 201
    retry = client.post(URL, body, format="json", **headers)
    assert retry.status_code == 201 and retry.content == done.content and retry["Idempotent-Replayed"] == "true"
    assert BanIncident.objects.count() == 1
