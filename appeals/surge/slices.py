"""Slices (all, platform, kind, enterprise) and one-minute buckets: how appeals are grouped and counted."""

import logging
from datetime import UTC, datetime

from django.db.models import Q

from appeals.core.models import Appeal, BanIncident
from appeals.surge.models import (
    SurgeDimension,
    slice_label,  # noqa: F401  (re-exported)
)
from appeals.surge.policy import MINUTES_PER_DAY, SurgePolicy

logger = logging.getLogger(__name__)


Slice = tuple[str, str]  # (dimension, value); the "all" slice has value ""
ALL_SLICE: Slice = (SurgeDimension.ALL.value, "")


# --- slices and buckets --------------------------------------------------------------------------


def minute_of(moment: datetime) -> int:
    """The one-minute bucket a moment falls in (minutes since the epoch, UTC)."""
    return int(moment.timestamp() // 60)


def minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def slices_of(*, platform: str, kind: str, enterprise_id) -> list[Slice]:
    return [
        ALL_SLICE,
        (SurgeDimension.PLATFORM.value, str(platform)),
        (SurgeDimension.KIND.value, str(kind)),
        (SurgeDimension.ENTERPRISE.value, str(enterprise_id)),
    ]


def appeal_slices(appeal: Appeal) -> list[Slice]:
    kind, platform = BanIncident.objects.filter(pk=appeal.incident_id).values_list("kind", "account__platform").get()
    return slices_of(platform=platform, kind=kind, enterprise_id=appeal.enterprise_id)


def slice_q(slice_: Slice, prefix: str = "") -> Q:
    """The appeals in a slice, as a filter on Appeal (or on a relation to it, with prefix)."""
    dimension, value = slice_
    if dimension == SurgeDimension.ALL:
        return Q()
    path = {
        SurgeDimension.PLATFORM: "incident__account__platform",
        SurgeDimension.KIND: "incident__kind",
        SurgeDimension.ENTERPRISE: "enterprise_id",
    }[dimension]
    return Q(**{prefix + path: value})


def window_ends(*, now: datetime, policy: SurgePolicy, windows_back: int = 0) -> list[int]:
    """The last minute of the window ending `windows_back` windows before now, then the same
    minute on each of the previous history days."""
    end = minute_of(now) - windows_back * policy.window_minutes
    return [end - day * MINUTES_PER_DAY for day in range(policy.history_days + 1)]
