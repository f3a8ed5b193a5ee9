"""Template context: `emergency`, the surge emergency channel's state (lazy, cached)."""

from django.utils.functional import SimpleLazyObject

from appeals.surge.services import surge_emergency_state


def emergency(request):
    # Lazy: pages that never show the banner never ask.
    return {"emergency": SimpleLazyObject(surge_emergency_state)}
