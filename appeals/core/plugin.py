"""The core's own plug-ins: the monthly per-phone limit on submit and the applicant's decision mail."""

from appeals.core import decisions, notices, precedents_panel, search
from appeals.core.panels import register_panel
from appeals.core.services.appeals import phone_monthly_quota_guard
from appeals.core.workflow import Action, register_guard, register_listener


def register() -> None:
    register_guard(Action.SUBMIT, phone_monthly_quota_guard)
    decisions.register()
    register_panel("precedents", 60, precedents_panel.render)
    register_listener(notices.on_transition)
    register_listener(search.on_transition)
