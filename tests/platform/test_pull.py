"""The whole flow with the real worker and the local WeCom stand-in: an admin connects the app,
pulls the records of an appeal's ban week, and the reviewer sees the risk flags computed from them."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.audit.models import AuditEvent
from appeals.evidence.models import EvidenceItem, LogAnalysis, RiskFlag
from appeals.evidence.services import evidence_storage
from appeals.platform.models import PullRun, PullState, WeComConnection
from appeals.platform.services import wecom_pull_start
from appeals.shared.exceptions import GuardFailed
from tests import builders
from tests.conftest import wait_for
from tests.platform.conftest import CORP_ID, CORP_SECRET, seed_incident_week


@pytest.mark.django_db(transaction=True)
def test_connect_pull_and_the_reviewer_sees_the_flags(celery_worker, client, wecom, draft_appeal, enterprise_admin,
                                                       first_reviewer, settings):
    settings.WECOM_API_BASE = wecom.url
    wecom.page_size = 25
    ban = int(draft_appeal.incident.banned_at.timestamp())
    counts = seed_incident_week(wecom, ban=ban)

    client.force_login(enterprise_admin)
    case_url = f"/appeals/{draft_appeal.reference}/"
    assert "/platform/wecom/" in client.get(case_url).content.decode()  # not connected yet: a link to connect
    client.post("/platform/wecom/", {"action": "connect", "corp_id": CORP_ID, "corp_secret": CORP_SECRET})
    # The token cached from an earlier pull has expired at WeCom; and WeCom is busy twice.
    stale = wecom.gettoken(CORP_ID, CORP_SECRET)["access_token"]
    wecom.expire_tokens()
    WeComConnection.objects.update(access_token=stale, access_token_expires_at=timezone.now() + timedelta(hours=1))
    wecom.busy.extend([-1, 45009])

    page = client.get(case_url).content.decode()
    assert "Pull records from WeCom" in page
    response = client.post(f"/appeals/{draft_appeal.reference}/wecom-pull/")
    assert response.status_code == 302
    run = PullRun.objects.get(appeal=draft_appeal)
    progress_url = f"/api/v1/appeals/{draft_appeal.reference}/wecom-pulls/{run.pk}/"
    assert f'data-progress-url="{progress_url}"' in client.get(case_url).content.decode() or \
        PullRun.objects.get(pk=run.pk).state == PullState.DONE

    api = APIClient()
    api.force_authenticate(enterprise_admin)
    progress = wait_for(lambda: (lambda body: body if body["finished"] else None)(api.get(progress_url).json()), timeout=60)
    assert progress["state"] == "done", progress["error"]
    run.refresh_from_db()
    # member: 65 records in the window, 25 a page -> 3 pages; admin: 3 records -> 1 page
    assert (run.records, run.pages_fetched, run.retries) == (counts["member"] + counts["admin"], 4, 2)
    assert progress["records"] == run.records and progress["pages_fetched"] == 4 and progress["retries"] == 2
    assert wecom.count(path="member", errcode=42001) == 1 and wecom.count(refused="span") == 0
    print(f"\nFIGURES records_pulled={run.records} pages_fetched={run.pages_fetched} retries={run.retries} "
          f"token_refreshes={run.token_refreshes} stand-in calls={len(wecom.log)}")

    # The original is the raw JSON pages, with its SHA-256; the analysis read the converted CSV.
    item = EvidenceItem.objects.get(pk=run.evidence_id)
    with evidence_storage().open(item.storage_name, "rb") as fp:
        raw = fp.read()
    assert item.file_type == "json" and item.kind == "operation_log" and hashlib.sha256(raw).hexdigest() == item.sha256
    document = json.loads(raw)
    assert len(document["member"]) == 3 and len(document["admin"]) == 1
    assert sum(len(p["record_list"]) for p in document["member"]) == 65
    analysis = wait_for(lambda: LogAnalysis.objects.filter(evidence=item, status="done").first(), timeout=30)
    assert analysis.rows_total == 68 and analysis.rows_malformed == 0
    flags = {f.rule: f for f in RiskFlag.objects.filter(evidence=item)}
    assert set(flags) == {"mass_add", "location_anomaly", "platform_ban"}
    assert flags["mass_add"].operator == "wx-sales-01" and flags["mass_add"].count == 60
    assert flags["location_anomaly"].detail["first"][0]["ip"] == "203.0.113.9"
    actions = set(AuditEvent.objects.filter(action__startswith="wecom.").values_list("action", flat=True))
    assert actions == {"wecom.connect", "wecom.pull_requested", "wecom.token_refreshed", "wecom.pull_done"}
    assert CORP_SECRET not in json.dumps(list(AuditEvent.objects.values_list("after", flat=True)))

    # The reviewer, once the case is submitted, sees the flags in the evidence panel.
    builders.submitted_appeal(draft_appeal, enterprise_admin)
    client.force_login(first_reviewer)
    page = client.get(case_url).content.decode()
    for label in ("Mass adding of friends", "New device with an unfamiliar IP", "Ban or lock by the platform"):
        assert label in page
    assert "Operation records from WeCom" in page and "Pull records from WeCom" not in page


@pytest.mark.django_db(transaction=True)
def test_a_refused_secret_fails_the_run_with_a_readable_error(celery_worker, wecom, draft_appeal, enterprise_admin, settings):
    settings.WECOM_API_BASE = wecom.url
    WeComConnection.objects.create(enterprise=enterprise_admin.enterprise, corp_id=CORP_ID, corp_secret="not-the-secret",
                                   api_base=wecom.url, connected_by=enterprise_admin)
    run = wecom_pull_start(appeal=draft_appeal, by=enterprise_admin)
    run = wait_for(lambda: PullRun.objects.filter(pk=run.pk, state=PullState.FAILED).first(), timeout=30)
    assert "refused the corp ID or secret" in run.error and "40001" in run.error and "not-the-secret" not in run.error
    assert not EvidenceItem.objects.filter(appeal=draft_appeal).exists()
    assert AuditEvent.objects.filter(action="wecom.pull_failed").exists()


@pytest.mark.django_db
def test_a_ban_older_than_180_days_is_refused_before_any_call(draft_appeal, enterprise_admin):
    WeComConnection.objects.create(enterprise=enterprise_admin.enterprise, corp_id=CORP_ID, corp_secret=CORP_SECRET,
                                   api_base="http://127.0.0.1:9", connected_by=enterprise_admin)
    incident = draft_appeal.incident
    incident.banned_at = timezone.now() - timedelta(days=175)
    incident.save(update_fields=["banned_at"])
    with pytest.raises(GuardFailed) as caught:
        wecom_pull_start(appeal=draft_appeal, by=enterprise_admin)
    assert caught.value.code == "records_too_old" and "180" in caught.value.message
    api = APIClient()
    api.force_authenticate(enterprise_admin)
    response = api.post(f"/api/v1/appeals/{draft_appeal.reference}/wecom-pulls/")
    assert response.status_code == 409 and response.json()["code"] == "records_too_old"
    assert not PullRun.objects.exists()


@pytest.mark.django_db
def test_pull_refusals_not_connected_and_one_at_a_time(draft_appeal, enterprise_admin, other_admin):
    api = APIClient()
    api.force_authenticate(enterprise_admin)
    url = f"/api/v1/appeals/{draft_appeal.reference}/wecom-pulls/"
    assert api.post(url).json()["code"] == "not_connected"
    WeComConnection.objects.create(enterprise=enterprise_admin.enterprise, corp_id=CORP_ID, corp_secret=CORP_SECRET,
                                   api_base="http://127.0.0.1:9", connected_by=enterprise_admin)
    first = api.post(url)
    assert first.status_code == 202 and first.json()["state"] == "queued"
    again = api.post(url)
    assert again.status_code == 409 and again.json()["code"] == "pull_running"
    other = APIClient()
    other.force_authenticate(other_admin)
    assert other.post(url).status_code == 404 and other.get(url + f"{first.json()['id']}/").status_code == 404


@pytest.mark.django_db
def test_a_pull_that_lost_its_worker_does_not_block_the_next_one(draft_appeal, enterprise_admin):
    WeComConnection.objects.create(enterprise=enterprise_admin.enterprise, corp_id=CORP_ID, corp_secret=CORP_SECRET,
                                   api_base="http://127.0.0.1:9", connected_by=enterprise_admin)
    stuck = wecom_pull_start(appeal=draft_appeal, by=enterprise_admin)
    PullRun.objects.filter(pk=stuck.pk).update(state=PullState.RUNNING, created_at=timezone.now() - timedelta(hours=2))
    fresh = wecom_pull_start(appeal=draft_appeal, by=enterprise_admin)
    stuck.refresh_from_db()
    assert stuck.state == PullState.FAILED and "worker stopped" in stuck.error and fresh.state == PullState.QUEUED
