"""Warnings at 80% of the allowed time (to the assigned reviewer) and breach notices (to the
managers): each once per case and stage. The SlaNotification row is written first under a
unique (appeal, stage, kind) key; only a row that was inserted gets a send task queued."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.core.models import Appeal, AppealState, User
from appeals.shared.tasks import publish_on_commit
from appeals.sla.models import AppealSla, SlaNotification
from appeals.sla.selectors import warn_percent

logger = logging.getLogger(__name__)

REVIEW_STAGES = (AppealState.FIRST_REVIEW, AppealState.SECOND_REVIEW, AppealState.ESCALATED)
Kind = SlaNotification.Kind


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
                publish_on_commit("appeals.tasks.send_sla_notification", notice.pk)
                queued[kind] += 1
    return {str(k): v for k, v in queued.items()}


def _message(notice: SlaNotification) -> tuple[str, str]:
    appeal, sla = notice.appeal, notice.appeal.sla
    due = timezone.localtime(sla.due_at).strftime("%Y-%m-%d %H:%M") if sla.due_at else "-"
    values = {"ref": appeal.reference, "due": due, "stage": AppealState(notice.stage).label, "severity": sla.severity,
              "pct": warn_percent()}
    if notice.kind == Kind.WARNING:
        subject = _("[SLA warning] %(ref)s: %(pct)s%% of the allowed time used, due %(due)s") % values
        body = _("Case %(ref)s (%(severity)s, %(stage)s) has used %(pct)s%% of its allowed time. It is due at %(due)s (Asia/Shanghai).") % values
    else:
        subject = _("[SLA breach] %(ref)s passed its due time %(due)s") % values
        body = _("Case %(ref)s (%(severity)s, %(stage)s) was due at %(due)s (Asia/Shanghai) and is not decided.") % values
    return subject, body


def sla_notification_send(*, notification_id: int) -> str:
    """Send one notice at most once: claim the row (queued -> sending) before talking to SMTP."""
    claimed = SlaNotification.objects.filter(pk=notification_id, state=SlaNotification.State.QUEUED).update(
        state=SlaNotification.State.SENDING
    )
    if not claimed:
        return "already handled"
    notice = SlaNotification.objects.select_related("appeal", "appeal__sla").get(pk=notification_id)
    if not notice.recipients:
        SlaNotification.objects.filter(pk=notice.pk).update(state=SlaNotification.State.FAILED, error="no recipients")
        return "no recipients"
    subject, body = _message(notice)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, notice.recipients)
    except ConnectionError:
        # Nothing was delivered (server unreachable): hand the row back and let the task retry.
        SlaNotification.objects.filter(pk=notice.pk).update(state=SlaNotification.State.QUEUED)
        raise
    except Exception as exc:
        logger.exception("SLA notice %s failed", notice.pk)
        SlaNotification.objects.filter(pk=notice.pk).update(state=SlaNotification.State.FAILED, error=str(exc)[:500])
        return "failed"
    SlaNotification.objects.filter(pk=notice.pk).update(state=SlaNotification.State.SENT, sent_at=timezone.now())
    return "sent"
