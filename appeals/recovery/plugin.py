"""The recovery plug-in: builds the plan on submit and re-dates it on the restoring decision
(a workflow listener), the self-check and plan panels on the case page, the reminder beat
entry and the routes."""

from django.conf import settings

from appeals.core.panels import register_panel
from appeals.core.workflow import register_listener
from appeals.recovery import (
    services,
    tasks,  # noqa: F401  (registers the Celery task)
    web,
)
from appeals.shared import registry


def register() -> None:
    register_listener(services.on_transition)
    # Before submit the self-check sits at the top, above the submit button.
    register_panel("recovery-self-check", 25, web.render_self_check_panel, top=web.self_check_on_top)
    register_panel("recovery-plan", 45, web.render_plan_panel)
    registry.register_beat("recovery-reminders", task="appeals.tasks.recovery_reminders",
                           schedule=settings.BEAT_INTERVALS["recovery-reminders"])
    registry.register_urls("recovery", api="appeals.recovery.api", web="appeals.recovery.web")
