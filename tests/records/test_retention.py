"""Retention: personal data of closed cases erased after PERSONAL_DATA_RETENTION_DAYS unless on
legal hold (set by a manager: service, API, case page), every erasure audited; the audit trail
never cut before AUDIT_RETENTION_DAYS; sessions and expired tokens purged."""

import json
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from appeals.audit.models import AuditEvent
from appeals.audit.services import audit_verify_chain
from appeals.core.services import appeals as appeal_services
from appeals.evidence.services import evidence_storage
from appeals.models import Appeal, AppealEvent, EvidenceItem, Message, VerificationChallenge
from appeals.records import retention
from appeals.shared.exceptions import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def close_days_ago(appeal, by, days: int) -> Appeal:
    appeal = appeal_services.appeal_withdraw(appeal=appeal, by=by, comment="no longer needed")
    AppealEvent.objects.filter(appeal=appeal, to_state="withdrawn").update(created_at=timezone.now() - timedelta(days=days))
    return appeal


@pytest.fixture
def old_closed(submitted_appeal, enterprise_admin):
    return close_days_ago(submitted_appeal, enterprise_admin, settings.RETENTION["PERSONAL_DATA_DAYS"] + 5)


def id_items(appeal):
    return list(EvidenceItem.objects.filter(appeal=appeal, kind__in=retention.ID_CARD_KINDS).order_by("pk"))


def test_closed_case_past_retention_is_erased_and_the_erasure_audited(old_closed):
    storage = evidence_storage()
    ids = id_items(old_closed)
    assert len(ids) == 2 and all(storage.exists(i.storage_name) for i in ids)
    others = EvidenceItem.objects.filter(appeal=old_closed).exclude(kind__in=retention.ID_CARD_KINDS)
    assert VerificationChallenge.objects.filter(appeal=old_closed).exists() and Message.objects.filter(appeal=old_closed).exists()

    assert retention.retention_sweep() == 1

    appeal = Appeal.objects.get(pk=old_closed.pk)
    assert appeal.contact_phone == "138****5678" and appeal.personal_data_erased_at
    for item in id_items(appeal):
        assert item.erased_at and not storage.exists(item.storage_name)
    assert all(storage.exists(i.storage_name) for i in others)  # the rest of the evidence stays
    for challenge in VerificationChallenge.objects.filter(appeal=appeal):
        assert "*" in challenge.destination and challenge.destination not in (appeal.enterprise.legal_rep_mobile, appeal.enterprise.admin_email)
    for message in Message.objects.filter(appeal=appeal):
        assert "*" in message.recipient
    event = AuditEvent.objects.get(action="appeal.personal_data_erased", target_id=appeal.reference)
    assert sorted(event.after["id_card_files_erased"]) == sorted(str(i.uuid) for i in ids)
    assert PHONE not in json.dumps(event.after) and event.actor is None
    assert audit_verify_chain().intact
    call_command("verify_evidence", stdout=open("/dev/null", "w"))  # erased files are not "missing"

    assert retention.retention_sweep() == 0  # once only


def test_not_yet_due_and_open_cases_are_kept(submitted_appeal, enterprise_admin):
    appeal = close_days_ago(submitted_appeal, enterprise_admin, settings.RETENTION["PERSONAL_DATA_DAYS"] - 5)
    assert retention.retention_sweep() == 0
    assert Appeal.objects.get(pk=appeal.pk).contact_phone == PHONE
    # ten days later it is due
    assert retention.retention_sweep(now=timezone.now() + timedelta(days=10)) == 1


def test_the_retention_is_configurable(submitted_appeal, enterprise_admin, settings):
    close_days_ago(submitted_appeal, enterprise_admin, 40)
    assert retention.retention_sweep() == 0
    settings.RETENTION = {**settings.RETENTION, "PERSONAL_DATA_DAYS": 30}
    assert retention.retention_sweep() == 1


def test_open_case_is_never_erased(submitted_appeal):
    assert retention.retention_sweep(now=timezone.now() + timedelta(days=5000)) == 0
    assert not EvidenceItem.objects.filter(erased_at__isnull=False).exists()


def test_legal_hold_stops_the_clock_and_lifting_it_restarts_it(old_closed, manager):
    retention.appeal_set_legal_hold(appeal=old_closed, by=manager, hold=True, reason="court order 2026-17")
    assert retention.retention_sweep() == 0
    assert all(i.erased_at is None for i in id_items(old_closed))
    retention.appeal_set_legal_hold(appeal=old_closed, by=manager, hold=False)
    assert retention.retention_sweep() == 1
    actions = list(AuditEvent.objects.filter(target_id=old_closed.reference, action__startswith="appeal.").values_list("action", flat=True))
    assert actions[-3:] == ["appeal.legal_hold_set", "appeal.legal_hold_lifted", "appeal.personal_data_erased"]
    hold = AuditEvent.objects.get(action="appeal.legal_hold_set")
    assert hold.actor == manager and hold.after == {"legal_hold": True, "reason": "court order 2026-17"}


def test_only_a_manager_sets_a_legal_hold_and_needs_a_reason(old_closed, first_reviewer, manager):
    with pytest.raises(PermissionDenied):
        retention.appeal_set_legal_hold(appeal=old_closed, by=first_reviewer, hold=True, reason="x")
    with pytest.raises(ValidationFailed) as exc:
        retention.appeal_set_legal_hold(appeal=old_closed, by=manager, hold=True, reason="  ")
    assert "reason" in exc.value.fields
    assert not Appeal.objects.get(pk=old_closed.pk).legal_hold


def test_legal_hold_api(old_closed, manager, first_reviewer, other_admin):
    url = f"/api/v1/appeals/{old_closed.reference}/legal-hold/"
    c = Client()
    c.force_login(first_reviewer)
    assert c.post(url, {"legal_hold": True, "reason": "x"}, content_type="application/json").status_code == 403
    c.force_login(other_admin)
    assert c.post(url, {"legal_hold": True, "reason": "x"}, content_type="application/json").status_code == 404
    c.force_login(manager)
    bad = c.post(url, {"legal_hold": True}, content_type="application/json")
    assert bad.status_code == 400 and "reason" in bad.json()["fields"]
    ok = c.post(url, {"legal_hold": True, "reason": "regulator inquiry"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["legal_hold"] is True
    assert Appeal.objects.get(pk=old_closed.pk).legal_hold


def test_case_page_button_for_managers_only(old_closed, manager, first_reviewer):
    page = f"/appeals/{old_closed.reference}/"
    c = Client()
    c.force_login(first_reviewer)
    body = c.get(page).content.decode()
    assert 'id="legal-hold"' in body and "set-legal-hold" not in body
    c.force_login(manager)
    assert "set-legal-hold" in c.get(page).content.decode()
    resp = c.post(f"/appeals/{old_closed.reference}/legal-hold/", {"legal_hold": "on", "reason": "litigation", "next": page})
    assert resp.status_code == 302 and resp["Location"] == page
    assert Appeal.objects.get(pk=old_closed.pk).legal_hold
    assert "lift-legal-hold" in c.get(page).content.decode()
    c.force_login(first_reviewer)
    c.post(f"/appeals/{old_closed.reference}/legal-hold/", {"legal_hold": "off", "next": page})
    assert Appeal.objects.get(pk=old_closed.pk).legal_hold  # a reviewer cannot lift it


def test_audit_events_are_never_deleted_before_the_retention(submitted_appeal, tmp_path):
    count = AuditEvent.objects.count()
    young = timezone.now() - timedelta(days=settings.APPEALS["AUDIT_RETENTION_DAYS"] - 1)
    with pytest.raises(ValidationFailed) as exc:
        retention.audit_archive(before=young, out=tmp_path / "a.jsonl")
    assert "before" in exc.value.fields
    with pytest.raises(CommandError, match="730"):
        call_command("audit_archive", "--before", timezone.localtime(young).strftime("%Y-%m-%d"), "--out", str(tmp_path / "b"))
    # at the cut-off itself the archive runs (the test's events are all younger: none), deleting nothing
    result = retention.audit_archive(before=retention.audit_retention_cutoff(), out=tmp_path / "c.jsonl")
    assert result.count == 0 and AuditEvent.objects.count() == count
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=AuditEvent.objects.first().pk).delete()


def test_the_archive_exports_old_events_with_their_hashes(submitted_appeal, tmp_path):
    now = timezone.now() + timedelta(days=settings.APPEALS["AUDIT_RETENTION_DAYS"] + 1)
    result = retention.audit_archive(before=now - timedelta(days=settings.APPEALS["AUDIT_RETENTION_DAYS"]), out=tmp_path / "a.jsonl", now=now)
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert result.count == len(rows) == AuditEvent.objects.count()
    last = AuditEvent.objects.order_by("-position").first()
    assert rows[-1]["hash"] == last.hash == result.last_hash and rows[0]["prev_hash"] == "0" * 64


def test_expired_sessions_and_old_tokens_are_purged(manager, first_reviewer):
    store = import_module(settings.SESSION_ENGINE).SessionStore
    live, dead = store(), store()
    live.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    old, _key = AuthToken.objects.create(user=manager)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    fresh, _key = AuthToken.objects.create(user=first_reviewer)

    out = retention.purge_sessions_and_tokens()
    assert out == {"tokens": 1, "token_kind": "knox"}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_an_erased_file_is_gone_from_the_api_too(old_closed, first_reviewer):
    retention.retention_sweep()
    item = id_items(old_closed)[0]
    c = Client()
    c.force_login(first_reviewer)
    resp = c.get(f"/api/v1/appeals/{old_closed.reference}/evidence/{item.uuid}/download/")
    assert resp.status_code == 404 and resp.json()["code"] == "erased"
