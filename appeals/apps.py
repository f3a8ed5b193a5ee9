from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeal desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from appeals.api import strict

        strict.install()  # JSON strings only where the schema says string
        from django.core import checks

        from appeals.shared.secrets import check_keys

        checks.register(check_keys, checks.Tags.security, deploy=True)
        # Every capability plugs in here, in this order, and nowhere else: each plugin.py
        # registers its guards, listeners, panels, conditions, beat entries and URL includes.
        from appeals.api import plugin as api
        from appeals.audit import plugin as audit
        from appeals.batch import plugin as batch
        from appeals.core import plugin as core
        from appeals.evidence import plugin as evidence
        from appeals.intake import plugin as intake
        from appeals.notifications import plugin as notifications
        from appeals.ops import plugin as ops
        from appeals.platform import plugin as platform
        from appeals.records import plugin as records
        from appeals.recovery import plugin as recovery
        from appeals.sla import plugin as sla
        from appeals.surge import plugin as surge
        from appeals.verification import plugin as verification
        from appeals.webhooks import plugin as webhooks

        for plugin in (core, audit, notifications, surge, verification, evidence, sla, ops, records,
                       intake, webhooks, platform, recovery, batch, api):
            plugin.register()
