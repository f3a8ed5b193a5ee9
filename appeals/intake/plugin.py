"""The intake plug-in: the API routes (push, service accounts), the managers' page, and the label that marks pushed
incidents where the core lists incidents ready to appeal."""

from appeals.core import plugins
from appeals.intake import selectors
from appeals.shared import registry


def register() -> None:
    registry.register_urls("intake", api="appeals.intake.api", web="appeals.intake.web")
    plugins.register_incident_source(selectors.pushed_labels)
