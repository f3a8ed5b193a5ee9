"""Warnings once a share of the allowed time is used (to the assigned reviewer) and breach
notices (to the managers): each once per case and stage.

The scan decides: a SlaNotification row is written under a unique (appeal, stage, kind)
key, and in the same transaction one outbox message per recipient (template `sla_warning`
or `sla_breach`, key `sla:<appeal>:<stage>:<kind>:<recipient>`). Delivery, retries, the
sweeper and the worker-death recovery are the outbox's (appeals.notifications.outbox)."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from appeals.core.models import Appeal, AppealState, User
from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_queue
from appeals.sla.models import AppealSla, SlaNotification
from appeals.sla.selectors import warn_percent

logger = logging.getLogger(__name__)

REVIEW_STAGES = (AppealState.FIRST_REVIEW, AppealState.SECOND_REVIEW, AppealState.ESCALATED)
Kind = SlaNotification.Kind
TEMPLATES = {Kind.WARNING: "sla_warning", Kind.BREACH: "sla_breach"}


def _managers() -> list[str]:
    return list(User.objects.filter(is_active=True, is_manager=True).exclude(email="").order_by("pk").values_list("email", flat=True))


def _recipients(appeal: Appeal, kind: str) -> list[str]:
    if kind == Kind.WARNING:
        assignee = {AppealState.FIRST_REVIEW: appeal.first_reviewer, AppealState.SECOND_REVIEW: appeal.second_reviewer}.get(appeal.state)
        if assignee is not None and assignee.email:
            return [assignee.email]
    return _managers()  # breaches, and warnings for a case nobody has claimed yet


def _due(kind: str, now):
    """Open, running clocks of cases in a review stage that have passed the kind's moment
    and have no notice of that kind for their current stage yet."""
    sent = SlaNotification.objects.filter(appeal_id=OuterRef("appeal_id"), stage=OuterRef("appeal__state"), kind=kind)
    qs = AppealSla.objects.filter(closed_at__isnull=True, running_since__isnull=False, appeal__state__in=REVIEW_STAGES)
    if kind == Kind.WARNING:
        qs = qs.filter(warn_at__lte=now, due_at__gt=now)
    else:
        qs = qs.filter(due_at__lte=now)
    return qs.filter(~Exists(sent)).values_list("appeal_id", flat=True)


def sla_scan(*, now=None) -> dict:
    now = now or timezone.now()
    queued = {Kind.WARNING: 0, Kind.BREACH: 0}
    for kind in (Kind.BREACH, Kind.WARNING):
        for appeal_id in list(_due(kind, now)[:1000]):
            with transaction.atomic(durable=True):  # one case, one commit; its send is published after it
                appeal = Appeal.objects.select_related("first_reviewer", "second_reviewer").get(pk=appeal_id)
                try:
                    with transaction.atomic():
                        notice = SlaNotification.objects.create(
                            appeal=appeal, stage=appeal.state, kind=kind, recipients=_recipients(appeal, kind)
                        )
                except IntegrityError:
                    continue  # another scan got there first: the notice exists, it is sent once
                sla_notice_queue_messages(notice=notice)
                queued[kind] += 1
    return {str(k): v for k, v in queued.items()}


def _params(notice: SlaNotification) -> dict:
    appeal, sla = notice.appeal, notice.appeal.sla
    return {
        "reference": appeal.reference,
        "due": timezone.localtime(sla.due_at).strftime("%Y-%m-%d %H:%M") if sla.due_at else "-",
        "stage": notice.stage,
        "severity": sla.severity,
        "warn_percent": warn_percent(),
    }


@transaction.atomic
def sla_notice_queue_messages(*, notice: SlaNotification) -> list[Message]:
    """One outbox email per recipient of the notice; idempotent (the keys are the notice's),
    so a task queued by an earlier version for the same notice adds nothing."""
    notice = SlaNotification.objects.select_related("appeal", "appeal__sla").get(pk=notice.pk)
    if not notice.recipients:
        logger.warning("SLA %s notice for %s (%s): no recipient with an email address", notice.kind, notice.appeal.reference,
                       notice.stage)
        return []
    params = _params(notice)
    return [
        message_queue(
            channel=Channel.EMAIL, recipient=recipient, template=TEMPLATES[notice.kind], params=params,
            idempotency_key=f"sla:{notice.appeal_id}:{notice.stage}:{notice.kind}:{recipient}",
            language=settings.LANGUAGE_CODE, topic=SlaNotification.TOPIC, topic_id=notice.pk,
        )
        for recipient in notice.recipients
    ]
