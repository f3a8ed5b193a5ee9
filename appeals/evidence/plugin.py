"""The evidence library's plug-in: the completeness guard on submit, the case-page panels (evidence, account health),
two auto-resolution conditions, the sweep of work a dead worker stranded, and the API routes."""

from django.conf import settings
from django.core import checks

from appeals.core import plugins
from appeals.core.panels import register_panel
from appeals.core.workflow import Action, register_guard
from appeals.evidence import (
    selectors,
    services,
    tasks,  # noqa: F401  (registers the capability's Celery tasks)
    web,
)
from appeals.evidence.checks import TAG as STORAGE_CHECK_TAG
from appeals.evidence.checks import check_evidence_bucket
from appeals.shared import registry


def register() -> None:
    register_guard(Action.SUBMIT, services.evidence_complete_guard)
    register_panel("evidence", 30, web.render_evidence_panel)
    register_panel("anomalies", 31, web.render_anomaly_panel)
    register_panel("account-health", 32, web.render_health_panel)
    plugins.register_step_status("evidence", web.evidence_step_status)
    plugins.register_precedent_signal("risk", selectors.risk_flag_rules)
    plugins.register_auto_resolution_condition("evidence_complete", services.evidence_complete_condition)
    plugins.register_auto_resolution_condition("no_risk_flags", services.no_risk_flags_condition)
    registry.register_beat("evidence-sweep", task="appeals.tasks.evidence.sweep_stranded",
                           schedule=settings.BEAT_INTERVALS["evidence-sweep"])
    registry.register_urls("evidence", api="appeals.evidence.api", web="appeals.evidence.web")
    # Talks to S3: a deployment check (`check --deploy`, and the start of gunicorn and workers).
    checks.register(check_evidence_bucket, STORAGE_CHECK_TAG, deploy=True)
