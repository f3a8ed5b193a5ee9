"""The platform plug-in: its Celery task, the case-page panel, the API and page routes."""

from appeals.core.panels import register_panel
from appeals.platform import (
    tasks,  # noqa: F401  (registers the Celery task)
    web,
)
from appeals.shared import registry


def register() -> None:
    # After the evidence panel (30): the records pulled here land there, with their risk flags.
    register_panel("wecom", 35, web.render_panel)
    registry.register_urls("platform", api="appeals.platform.api", web="appeals.platform.web")
