"""The audit chain's plug-in: the hourly verification of the whole chain."""

from django.conf import settings

from appeals.audit import tasks  # noqa: F401  (registers the capability's Celery tasks)
from appeals.shared import registry


def register() -> None:
    registry.register_beat("verify-audit-chain", task="appeals.tasks.verify_audit_chain",
                          schedule=settings.BEAT_INTERVALS["verify-audit-chain"])
