"""Verification's plug-in: both proofs start on submit and gate acceptance into first review;
the case-page panel; the send-time secrets of the outbox; an auto-resolution condition; routes."""

from appeals.core import plugins
from appeals.core.panels import register_panel
from appeals.core.workflow import Action, register_guard, register_listener
from appeals.notifications.outbox import register_secret_minter
from appeals.shared import registry
from appeals.verification import services, web


def _start_on_submit(appeal, transition, by, event) -> None:
    if transition.action == Action.SUBMIT:
        services.verification_start(appeal=appeal)


def register() -> None:
    register_listener(_start_on_submit)
    register_guard(Action.ACCEPT, services.both_proofs_guard)
    register_panel("verification", 20, web.render_panel, top=web.panel_on_top)
    plugins.register_step_status("verify", web.verify_step_status)
    register_secret_minter(services.challenge_mint_secret)
    plugins.register_auto_resolution_condition("applicant_verified", services.applicant_verified_condition)
    registry.register_urls("verification", api="appeals.verification.api", web="appeals.verification.web")
