from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeal desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Modules that plug guards and listeners into the workflow register on import.
        import appeals.services.surge_listeners  # noqa: F401  (surge counting on submit)
        import appeals.web.evidence  # noqa: F401  (evidence panel + completeness guard)
        from appeals.notifications import listeners  # noqa: F401  (verification guard + notifications)
        from appeals.services import (
            appeals,  # noqa: F401
            sla,  # noqa: F401
        )
