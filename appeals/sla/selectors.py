"""SLA reads: queues ordered by their clock."""

from django.db.models import F, QuerySet

from appeals.core.models import Appeal

# The reviewer queues' order key this capability registers (due soonest on top; clocks not started last).
SLA_DUE_ORDER = F("sla__due_at").asc(nulls_last=True)


def by_sla_due(queue: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """A queue ordered by its SLA clock: the case due first on top (clocks not started last)."""
    return queue.order_by(SLA_DUE_ORDER, "submitted_at", "id")
