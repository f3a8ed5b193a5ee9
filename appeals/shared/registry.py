"""Generic registries the plug-ins fill and the shell reads: URL includes (`appeals.api.urls`,
`appeals.web.urls`), periodic tasks (`config.celery`) and page context (`appeals.web.context`).

Filled only from the capabilities' `plugin.py` modules, called by `AppealsConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass

# --- URL includes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlInclude:
    module: str  # dotted path of a module with `urlpatterns`
    prefix: str = ""


_api_urls: dict[str, UrlInclude] = {}
_web_urls: dict[str, UrlInclude] = {}


def register_urls(name: str, *, api: str | None = None, web: str | None = None, web_prefix: str = "") -> None:
    """A capability's API routes (under /api/v1/) and page routes (under / + web_prefix)."""
    if api:
        _api_urls[name] = UrlInclude(api)
    if web:
        _web_urls[name] = UrlInclude(web, web_prefix)


def api_url_includes() -> list[UrlInclude]:
    return list(_api_urls.values())


def web_url_includes() -> list[UrlInclude]:
    return list(_web_urls.values())


# --- periodic tasks ----------------------------------------------------------------------------

_beat: dict[str, dict] = {}


def register_beat(name: str, *, task: str, schedule: float) -> None:
    """A periodic task (Celery beat); `schedule` in seconds, from the capability's settings."""
    _beat[name] = {"task": task, "schedule": float(schedule)}


def beat_schedule() -> dict[str, dict]:
    return {name: dict(entry) for name, entry in _beat.items()}


# --- template context --------------------------------------------------------------------------

_context: dict[str, Callable] = {}


def register_context(name: str, fn: Callable) -> None:
    """fn(request) -> dict merged into every page's template context (keep it lazy)."""
    _context[name] = fn


def page_context(request) -> dict:
    out: dict = {}
    for fn in _context.values():
        out.update(fn(request))
    return out
