"""Reads of the platform connection, scoped to the user who asks (an admin sees only their enterprise's)."""

from appeals.core.models import Appeal
from appeals.core.selectors import appeal_get
from appeals.platform.models import PullRun, WeComConnection
from appeals.shared.exceptions import NotFound


def connection_of(user) -> WeComConnection | None:
    """The user's enterprise's connection; None for desk staff and for an enterprise not connected."""
    if not (user.is_authenticated and user.enterprise_id):
        return None
    return WeComConnection.objects.filter(enterprise_id=user.enterprise_id).select_related("connected_by").first()


def pulls_of(*, appeal: Appeal):
    return PullRun.objects.filter(appeal=appeal).select_related("evidence").order_by("-created_at", "-id")


def pull_get(*, user, reference: str, pk) -> PullRun:
    appeal = appeal_get(user=user, reference=reference)
    try:
        return pulls_of(appeal=appeal).get(pk=pk)
    except (PullRun.DoesNotExist, ValueError):
        raise NotFound() from None
