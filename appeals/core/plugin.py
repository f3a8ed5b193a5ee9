"""The core's own plug-ins: the monthly per-phone limit on submit, the applicant's decision mail,
and the sign-in / token audit receivers (appeals.core.services.auth)."""

from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_save

from appeals.core import decisions, notices, precedents_panel, search
from appeals.core.models import User
from appeals.core.panels import register_panel
from appeals.core.services import auth
from appeals.core.services.appeals import phone_monthly_quota_guard
from appeals.core.workflow import Action, register_guard, register_listener


def register() -> None:
    register_guard(Action.SUBMIT, phone_monthly_quota_guard)
    decisions.register()
    register_panel("precedents", 60, precedents_panel.render)
    register_listener(notices.on_transition)
    register_listener(search.on_transition)
    post_save.connect(auth.on_user_saved, sender=User, dispatch_uid="appeals.revoke_tokens_on_password_change")
    auth_signals.user_logged_in.connect(auth.on_logged_in, dispatch_uid="appeals.audit_login")
    auth_signals.user_login_failed.connect(auth.on_login_failed, dispatch_uid="appeals.audit_login_failed")
    auth_signals.user_logged_out.connect(auth.on_logged_out, dispatch_uid="appeals.audit_logout")
