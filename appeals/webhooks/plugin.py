"""The webhooks plug-in: every transition may raise an event, the outbox learns how to build
and log a webhook, and the routes."""

from appeals.core.workflow import register_listener
from appeals.notifications import webhook
from appeals.shared import registry
from appeals.webhooks import services


def register() -> None:
    register_listener(services.on_transition)
    webhook.register(prepare=services.prepare_request, record=services.record_attempt)
    registry.register_urls("webhooks", api="appeals.webhooks.api", web="appeals.webhooks.web")
