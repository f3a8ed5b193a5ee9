"""Workflow listeners: start verification on submit, email the admin on state changes.

Runs inside the transition's transaction, so the outbox rows commit (or roll back)
with the state change; delivery is published only after commit.
"""

from django.core import checks

from appeals.models import AppealState, Channel, VerificationChallenge
from appeals.notifications.outbox import message_queue
from appeals.services import verification  # noqa: F401  (registers the ACCEPT guard)
from appeals.workflow import Action, register_listener

# The verification email doubles as the "submitted" notice (one mail, not two).
STATE_TEMPLATES = {
    AppealState.NEEDS_INFO: "appeal_needs_info",
    AppealState.APPROVED: "appeal_decided",
    AppealState.REJECTED: "appeal_decided",
    AppealState.ESCALATED: "appeal_escalated",
}


def _admin_language(appeal) -> str:
    """The language the admin submitted in (desk staff act in theirs; the mail is the admin's)."""
    return VerificationChallenge.objects.filter(appeal=appeal).order_by("created_at").values_list("language", flat=True).first() or ""


def on_transition(appeal, transition, by, event) -> None:
    if transition.action == Action.SUBMIT:
        verification.verification_start(appeal=appeal)
        return
    template = STATE_TEMPLATES.get(event.to_state)
    if template is None or event.from_state == event.to_state:
        return
    from django.conf import settings

    enterprise = appeal.enterprise
    message_queue(
        channel=Channel.EMAIL, recipient=enterprise.admin_email, template=template,
        params={"reference": appeal.reference, "company": enterprise.name, "admin_name": enterprise.admin_name,
                "state": event.to_state, "reason": event.comment, "hotline": settings.APPEALS["HOTLINE"]},
        idempotency_key=f"appeal-event:{event.pk}:email", appeal=appeal, language=_admin_language(appeal),
    )


register_listener(on_transition)


@checks.register()
def check_time_limits(app_configs=None, **kwargs):
    """A send must be killed before its lease lapses, and both before Redis redelivers it."""
    from django.conf import settings

    n = settings.NOTIFICATIONS
    visibility = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout", 3600)
    if not n["TASK_SOFT_TIME_LIMIT"] <= n["TASK_TIME_LIMIT"] < n["SEND_LEASE_SECONDS"] < visibility:
        return [checks.Error(
            "Notification time limits must satisfy soft <= hard time limit < send lease < broker visibility timeout "
            f"(now {n['TASK_SOFT_TIME_LIMIT']} / {n['TASK_TIME_LIMIT']} / {n['SEND_LEASE_SECONDS']} / {visibility} s).",
            id="appeals.E401")]
    return []
