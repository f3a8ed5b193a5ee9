"""The applicant's mail on the appeal's decisive moves: needs information, decided, escalated.

The decision notice carries the outcome code's reason, what to do next and how to seek redress.

A workflow listener: runs inside the transition's transaction, so the outbox row commits (or
rolls back) with the state change; delivery is published only after commit.
"""

from django.conf import settings

from appeals.core.models import AppealState, OutcomeCode
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_queue

# The verification email doubles as the "submitted" notice (one mail, not two).
STATE_TEMPLATES = {
    AppealState.NEEDS_INFO: "appeal_needs_info",
    AppealState.APPROVED: "appeal_decided",
    AppealState.REJECTED: "appeal_decided",
    AppealState.ESCALATED: "appeal_escalated",
}


def _admin_language(appeal) -> str:
    """The language the admin submitted in: that of the first mail the case sent them
    (desk staff act in theirs; the mail is the admin's)."""
    return (
        Message.objects.filter(appeal=appeal, channel=Channel.EMAIL).exclude(language="")
        .order_by("created_at", "id").values_list("language", flat=True).first() or ""
    )


def _decision_params(appeal) -> dict:
    """The reasoned decision (appeals.core.decisions) in both languages: each language's mail
    template picks its own. Redress: appeal again (except after a permanent ban) or call the hotline."""
    code = OutcomeCode.objects.filter(code=appeal.outcome_code).first()
    return {
        "outcome_code": appeal.outcome_code,
        "outcome_label_en": code.label_en if code else "", "outcome_label_zh": code.label_zh if code else "",
        "decision_reason_en": appeal.decision_reason_en, "decision_reason_zh": appeal.decision_reason_zh,
        "next_steps_en": code.next_steps_en if code else "", "next_steps_zh": code.next_steps_zh if code else "",
        "may_appeal_again": appeal.outcome_code != "refused_permanent_ban",
    }


def on_transition(appeal, transition, by, event) -> None:
    template = STATE_TEMPLATES.get(event.to_state)
    if template is None or event.from_state == event.to_state:
        return
    enterprise = appeal.enterprise
    params = {"reference": appeal.reference, "company": enterprise.name, "admin_name": enterprise.admin_name,
              "state": event.to_state, "reason": event.comment, "hotline": settings.APPEALS["HOTLINE"]}
    if template == "appeal_decided":
        params.update(_decision_params(appeal))
    message_queue(
        channel=Channel.EMAIL, recipient=enterprise.admin_email, template=template,
        params=params,
        idempotency_key=f"appeal-event:{event.pk}:email", appeal=appeal, language=_admin_language(appeal),
    )
