"""SLA reads: queues ordered by their clock, and the warning share that messages quote."""

from django.conf import settings
from django.db.models import F, QuerySet

from appeals.core.models import Appeal

# The reviewer queues' order key this capability registers (due soonest on top; clocks not started last).
SLA_DUE_ORDER = F("sla__due_at").asc(nulls_last=True)


def warn_percent() -> int:
    """The share of the allowed time after which a case is "about to breach", in percent
    (settings.APPEALS_SLA["WARN_AT_FRACTION"]), for the texts that quote it."""
    return round(settings.APPEALS_SLA["WARN_AT_FRACTION"] * 100)


def by_sla_due(queue: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """A queue ordered by its SLA clock: the case due first on top (clocks not started last)."""
    return queue.order_by(SLA_DUE_ORDER, "submitted_at", "id")
