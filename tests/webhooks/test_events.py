"""Events: each transition that matters raises one event, queued in the outbox for every
endpoint that wants it, in the transition's own transaction; the body carries the outcome of a
decision and no personal data."""

import json

import pytest
from django.db import transaction

from appeals.core.services import appeals as svc
from appeals.notifications.models import Message, MessageChannel
from appeals.webhooks import services
from appeals.webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


def _webhook_messages():
    return Message.objects.filter(channel=MessageChannel.WEBHOOK).order_by("id")


def test_submission_reaches_the_enterprise_and_platform_endpoints_only(
        intake_guards_off, endpoint_for, draft_appeal, enterprise_admin, other_admin, manager):
    own, _r1 = endpoint_for(enterprise_admin)
    platform, _r2 = endpoint_for(manager, platform=True)
    endpoint_for(other_admin)  # another enterprise's endpoint
    endpoint_for(enterprise_admin, events=["appeal.decided"])  # not subscribed to submissions
    disabled, _r3 = endpoint_for(enterprise_admin)
    services.webhook_endpoint_update(endpoint=disabled, by=enterprise_admin, active=False)

    appeal = svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)

    event = WebhookEvent.objects.get()
    assert event.type == "appeal.submitted" and event.appeal_id == appeal.pk
    messages = list(_webhook_messages())
    assert [(m.topic_id, m.idempotency_key, m.state) for m in messages] == [
        (own.pk, f"webhook:{event.webhook_id}:{own.pk}", "queued"),
        (platform.pk, f"webhook:{event.webhook_id}:{platform.pk}", "queued"),
    ]
    body = event.payload
    assert body["type"] == "appeal.submitted" and body["id"] == event.webhook_id
    assert body["data"]["appeal"]["reference"] == appeal.reference and body["data"]["appeal"]["state"] == "submitted"
    assert body["data"]["appeal"]["previous_state"] == "draft"


def test_the_event_and_its_messages_commit_with_the_transition_or_not_at_all(
        intake_guards_off, endpoint_for, draft_appeal, enterprise_admin):
    endpoint_for(enterprise_admin)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the request fails after the transition")
    assert not WebhookEvent.objects.exists() and not _webhook_messages().exists()


def test_a_decision_carries_its_outcome_code_and_reason_and_no_personal_data(
        endpoint_for, second_review_appeal, second_reviewer, enterprise_admin, enterprise):
    endpoint, _receiver = endpoint_for(enterprise_admin)
    appeal = svc.appeal_claim(appeal=second_review_appeal, by=second_reviewer)
    assert not WebhookEvent.objects.exists()  # a claim is no event
    appeal = svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="reject", comment="Confirmed spam.",
                                      outcome_code="refused_violation_confirmed")
    event = WebhookEvent.objects.get()
    decision = event.payload["data"]["decision"]
    assert event.type == "appeal.decided"
    assert decision["outcome"] == "reject" and decision["outcome_code"] == "refused_violation_confirmed"
    assert decision["reason"]["en"] == appeal.decision_reason_en and decision["reason"]["zh-Hans"] == appeal.decision_reason_zh
    assert decision["reason"]["en"] and decision["reason"]["zh-Hans"]
    text = json.dumps(event.payload, ensure_ascii=False)
    for personal in (appeal.contact_phone, enterprise.legal_rep_mobile, enterprise.admin_phone, enterprise.admin_email,
                     enterprise.legal_rep_name, enterprise.admin_name, appeal.statement, "Confirmed spam."):
        assert personal not in text
    assert _webhook_messages().get().topic_id == endpoint.pk


def test_escalation_and_withdrawal_are_events(endpoint_for, claimed_appeal, first_reviewer, enterprise_admin):
    endpoint_for(enterprise_admin, events=["appeal.escalated", "appeal.withdrawn"])
    appeal = svc.appeal_first_review(appeal=claimed_appeal, by=first_reviewer, decision="escalate", comment="Hotline.")
    svc.appeal_withdraw(appeal=appeal, by=enterprise_admin)
    assert list(WebhookEvent.objects.order_by("id").values_list("type", flat=True)) == ["appeal.escalated", "appeal.withdrawn"]
    assert _webhook_messages().count() == 2


def test_no_endpoint_no_event(intake_guards_off, draft_appeal, enterprise_admin):
    svc.appeal_submit(appeal=draft_appeal, by=enterprise_admin)
    assert not WebhookEvent.objects.exists() and not WebhookEndpoint.objects.exists()
