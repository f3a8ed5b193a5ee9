from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeal desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from appeals.api import strict

        strict.install()  # JSON strings only where the schema says string
        # Every capability plugs in here, in this order, and nowhere else: each plugin.py
        # registers its guards, listeners, panels, conditions, beat entries and URL includes.
        from appeals.audit import plugin as audit
        from appeals.core import plugin as core
        from appeals.evidence import plugin as evidence
        from appeals.notifications import plugin as notifications
        from appeals.ops import plugin as ops
        from appeals.records import plugin as records
        from appeals.sla import plugin as sla
        from appeals.surge import plugin as surge
        from appeals.verification import plugin as verification

        for plugin in (core, audit, notifications, surge, verification, evidence, sla, ops, records):
            plugin.register()
