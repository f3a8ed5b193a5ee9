"""Webhook writes: endpoints (create, update, rotate the secret, delete), the events a
transition raises, manual redelivery, and what the outbox asks of us at send time.

Who may do what (the rule lives here, whatever the entry point): an enterprise admin manages
their own enterprise's endpoints; a manager manages the platform-wide endpoints (they receive
every enterprise's events) and may redeliver to any endpoint. Every change is audited; no
audit row, log line or response after creation carries a secret.
"""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.audit.services import audit_object, audit_record
from appeals.core.models import Role
from appeals.core.workflow import Action
from appeals.notifications import webhook
from appeals.notifications.models import MessageChannel
from appeals.notifications.outbox import message_queue
from appeals.shared.exceptions import NotFound, PermissionDenied, ValidationFailed
from appeals.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType

EVENT_FOR_ACTION = {
    Action.SUBMIT: WebhookEventType.SUBMITTED,
    Action.APPROVE: WebhookEventType.DECIDED,
    Action.REJECT: WebhookEventType.DECIDED,
    Action.DECIDE_APPROVE: WebhookEventType.DECIDED,
    Action.DECIDE_REJECT: WebhookEventType.DECIDED,
    Action.AUTO_APPROVE: WebhookEventType.DECIDED,
    Action.ESCALATE: WebhookEventType.ESCALATED,
    Action.WITHDRAW: WebhookEventType.WITHDRAWN,
}
OUTCOME_FOR_STATE = {"approved": "approve", "rejected": "reject"}


# --- who may manage an endpoint -------------------------------------------------------------------


def may_manage(user, endpoint: WebhookEndpoint) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if endpoint.enterprise_id is None:
        return user.has_role(Role.MANAGER)
    return user.enterprise_id == endpoint.enterprise_id


def may_redeliver(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(Role.MANAGER))


_URL_PROBLEMS = {
    "scheme": lambda: _("Use an https URL (plain http only to this machine, in local settings)."),
    "credentials": lambda: _("Leave user names and passwords out of the URL; the signature authenticates us."),
    "unresolvable": lambda: _("The host name does not resolve."),
    "address": lambda: _("This address cannot receive webhooks (loopback, link-local, metadata, private or reserved)."),
    "invalid": lambda: _("Enter a valid URL."),
}


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationFailed(fields={"url": [_("This field is required.")]})
    if len(url) > 254:
        raise ValidationFailed(fields={"url": [_("Keep the URL within 254 characters.")]})
    problem = webhook.url_problem(url)
    if problem:
        raise ValidationFailed(fields={"url": [_URL_PROBLEMS[problem]()]}, code="webhook_url_refused")
    return url


def _clean_events(events) -> list[str]:
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in WebhookEventType.values]
    if unknown or not events:
        raise ValidationFailed(fields={"events": [_("Choose one or more of: %(events)s.") % {"events": ", ".join(WebhookEventType.values)}]})
    return [e for e in WebhookEventType.values if e in events]


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    """What the audit chain keeps of an endpoint: never the secret."""
    return {"url": endpoint.url, "description": endpoint.description, "events": list(endpoint.events),
            "active": endpoint.active, "scope": "platform" if endpoint.is_platform else "enterprise"}


# --- endpoints ---------------------------------------------------------------------------------


@transaction.atomic
def webhook_endpoint_create(*, by, url: str, events, description: str = "", platform: bool = False) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret; the secret is returned this once and never again."""
    if platform:
        if not by.has_role(Role.MANAGER):
            raise PermissionDenied(_("Only managers may register platform-wide endpoints."))
        enterprise_id = None
    elif by.enterprise_id is None:
        raise PermissionDenied(_("Only an enterprise's admins may register its endpoints; managers register platform-wide ones."))
    else:
        enterprise_id = by.enterprise_id
    secret = webhook.generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        enterprise_id=enterprise_id, url=_clean_url(url), events=_clean_events(events), description=(description or "").strip()[:200],
        secret=secret, created_by=by, secret_rotated_at=timezone.now(),
    )
    audit_object(actor=by, action="webhook.endpoint_create", obj=endpoint, after=_snapshot(endpoint))
    return endpoint, secret


def _locked(endpoint: WebhookEndpoint, by) -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if locked is None:
        raise NotFound()
    if not may_manage(by, locked):
        raise PermissionDenied(_("You may not change this endpoint."))
    return locked


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, by, url: str | None = None, events=None,
                            description: str | None = None, active: bool | None = None) -> WebhookEndpoint:
    endpoint = _locked(endpoint, by)
    before = _snapshot(endpoint)
    if url is not None:
        endpoint.url = _clean_url(url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if active is not None:
        endpoint.active = bool(active)
    endpoint.save()
    audit_object(actor=by, action="webhook.endpoint_update", obj=endpoint, before=before, after=_snapshot(endpoint))
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by, keep_previous_hours: int | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned this once. The old one keeps signing (a second `v1` signature)
    for `keep_previous_hours` (0: retired at once) so receivers can switch without a gap."""
    endpoint = _locked(endpoint, by)
    hours = settings.WEBHOOKS["PREVIOUS_SECRET_HOURS"] if keep_previous_hours is None else keep_previous_hours
    if not 0 <= hours <= 168:
        raise ValidationFailed(fields={"keep_previous_hours": [_("Between 0 and 168 hours.")]})
    now = timezone.now()
    secret = webhook.generate_secret()
    if hours:
        endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + timedelta(hours=hours)
    else:
        endpoint.previous_secret, endpoint.previous_secret_expires_at = "", None
    endpoint.secret, endpoint.secret_rotated_at = secret, now
    endpoint.save()
    audit_object(actor=by, action="webhook.secret_rotate", obj=endpoint,
                 after={"url": endpoint.url, "previous_secret_hours": hours})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, by) -> None:
    """Removes the endpoint and its delivery log; messages still queued to it fail (not sent)."""
    endpoint = _locked(endpoint, by)
    snapshot = _snapshot(endpoint)
    audit_object(actor=by, action="webhook.endpoint_delete", obj=endpoint, before=snapshot)
    endpoint.delete()


# --- events ------------------------------------------------------------------------------------


def _payload(*, webhook_id: str, kind: str, appeal, source: str, occurred_at) -> dict:
    """The body: what a receiver needs to act on the case, and no personal data (no phone,
    statement, names of people or comments)."""
    data = {
        "appeal": {"reference": appeal.reference, "state": appeal.state, "previous_state": source,
                   "emergency": bool(appeal.is_emergency),
                   "submitted_at": appeal.submitted_at.isoformat() if appeal.submitted_at else None,
                   "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None},
        "enterprise": {"id": appeal.enterprise_id, "credit_code": appeal.enterprise.credit_code},
    }
    if kind == WebhookEventType.DECIDED:
        data["decision"] = {"outcome": OUTCOME_FOR_STATE.get(appeal.state, ""), "outcome_code": appeal.outcome_code,
                            "reason": {"en": appeal.decision_reason_en, "zh-Hans": appeal.decision_reason_zh}}
    return {"id": webhook_id, "type": str(kind), "timestamp": occurred_at.isoformat(), "data": data}


def matching_endpoints(*, enterprise_id: int, kind: str) -> list[WebhookEndpoint]:
    """The active endpoints that receive this enterprise's `kind` events: its own and the platform's."""
    from django.db.models import Q

    candidates = WebhookEndpoint.objects.filter(Q(enterprise_id=enterprise_id) | Q(enterprise__isnull=True), active=True).order_by("id")
    return [e for e in candidates if kind in (e.events or [])]


def _queue(event: WebhookEvent, endpoint: WebhookEndpoint, *, key: str, manual: bool = False):
    return message_queue(
        channel=MessageChannel.WEBHOOK, recipient=endpoint.url, template="webhook", idempotency_key=key,
        params={"endpoint": endpoint.pk, "event": event.pk, "webhook_id": event.webhook_id, "type": event.type, "manual": manual},
        topic=WebhookEndpoint.TOPIC, topic_id=endpoint.pk, language="en",
    )


def on_transition(appeal, transition, by, event) -> None:
    """Workflow listener (inside the transition's transaction): one event, and one outbox
    message per endpoint that wants it, committed with the transition or not at all."""
    kind = EVENT_FOR_ACTION.get(transition.action)
    if kind is None:
        return
    endpoints = matching_endpoints(enterprise_id=appeal.enterprise_id, kind=kind)
    if not endpoints:
        return
    webhook_id = f"msg_{uuid.uuid4().hex}"
    wh_event = WebhookEvent.objects.create(
        webhook_id=webhook_id, type=kind, enterprise_id=appeal.enterprise_id, appeal=appeal, occurred_at=event.created_at,
        payload=_payload(webhook_id=webhook_id, kind=kind, appeal=appeal, source=event.from_state, occurred_at=event.created_at),
    )
    for endpoint in endpoints:
        _queue(wh_event, endpoint, key=f"webhook:{webhook_id}:{endpoint.pk}")


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, by):
    """A manager sends the event of a logged attempt to its endpoint again: a new outbox
    message with the SAME webhook-id (a receiver that has it already ignores it)."""
    if not may_redeliver(by):
        raise PermissionDenied(_("Only managers may redeliver webhooks."))
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
    if endpoint is None:
        raise NotFound()
    if not endpoint.active:
        raise ValidationFailed(_("Activate the endpoint before redelivering to it."), code="endpoint_inactive")
    event = delivery.event
    message = _queue(event, endpoint, key=f"webhook:{event.webhook_id}:{endpoint.pk}:redeliver:{uuid.uuid4().hex[:12]}", manual=True)
    audit_record(actor=by, action="webhook.redeliver", target_type="appeals.webhookendpoint", target_id=endpoint.pk,
                 enterprise_id=endpoint.enterprise_id,
                 after={"webhook_id": event.webhook_id, "type": event.type, "appeal": event.payload["data"]["appeal"]["reference"],
                        "message": message.pk})
    return message


# --- what the outbox asks at send time -----------------------------------------------------------


def prepare_request(message) -> webhook.WebhookRequest:
    """The endpoint's URL and secrets now (a rotation applies to retries), the event's body."""
    params = message.params or {}
    endpoint = WebhookEndpoint.objects.filter(pk=params.get("endpoint")).first()
    if endpoint is None or not endpoint.active:
        raise webhook.EndpointGone("the endpoint was removed or disabled")
    event = WebhookEvent.objects.get(pk=params["event"])
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > timezone.now():
        secrets.append(endpoint.previous_secret)
    body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return webhook.WebhookRequest(url=endpoint.url, msg_id=event.webhook_id, body=body, secrets=secrets)


def record_attempt(message, *, status_code, latency_ms, outcome, error) -> None:
    params = message.params or {}
    if not WebhookEndpoint.objects.filter(pk=params.get("endpoint")).exists():
        return
    WebhookDelivery.objects.create(
        endpoint_id=params["endpoint"], event_id=params["event"], message_id=message.pk, attempt=message.attempts,
        status_code=status_code, latency_ms=max(0, int(latency_ms)), outcome=outcome, error=(error or "")[:300],
        manual=bool(params.get("manual")),
    )
