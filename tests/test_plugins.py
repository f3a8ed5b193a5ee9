"""The plug-ins: every capability registers through its plugin.py, and the shell reads the
registries (URL includes, beat entries, page context); a real `celery beat` process sends the
plug-ins' periodic tasks."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import resolve, reverse

from appeals.core import panels, plugins, workflow
from appeals.core.workflow import Action
from appeals.shared import registry

ROOT = Path(__file__).resolve().parent.parent

PLUGIN_TASKS = {
    "verify-audit-chain": "appeals.tasks.verify_audit_chain",
    "notifications-outbox-sweep": "appeals.tasks.outbox_sweep",
    "surge-scan": "appeals.tasks.surge_scan",
    "sla-scan": "appeals.tasks.sla_scan",
    "sla-auto-resolve": "appeals.tasks.sla_auto_resolve",
    "sla-report-snapshots": "appeals.tasks.refresh_report_snapshots",
    "sla-calendar-check": "appeals.tasks.calendar_year_check",
    "evidence-sweep": "appeals.tasks.evidence.sweep_stranded",
    "ops-appeal-state-counts": "appeals.tasks.ops_appeal_state_counts",
    "records-backup": "appeals.tasks.records_backup",
    "records-restore-drill": "appeals.tasks.records_restore_drill",
    "records-retention": "appeals.tasks.records_retention",
    "records-purge-sessions": "appeals.tasks.records_purge_sessions",
    "batch-sweep": "appeals.tasks.batch_sweep",
    "recovery-reminders": "appeals.tasks.recovery_reminders",
    "idempotency-sweep": "appeals.tasks.api.idempotency_sweep",
}


def test_every_capability_registers_its_guards_listeners_and_panels():
    guard_names = {action: {g.__name__ for g in guards} for action, guards in workflow._guards.items()}
    assert {"phone_monthly_quota_guard", "evidence_complete_guard"} <= guard_names[Action.SUBMIT]
    assert "both_proofs_guard" in guard_names[Action.ACCEPT]
    listener_modules = {listener.__module__ for listener in workflow._listeners}
    assert {"appeals.core.notices", "appeals.verification.plugin", "appeals.sla.services", "appeals.surge.services",
            "appeals.recovery.services", "appeals.webhooks.services"} <= listener_modules
    assert [p.name for p in sorted(panels._panels.values(), key=lambda p: p.order)] == [
        "verification", "recovery-self-check", "evidence", "anomalies", "account-health", "wecom", "recovery-plan",
        "precedents", "records-legal-hold",
    ]
    for name in ("minor_severity", "no_recent_incident", "applicant_verified", "evidence_complete", "no_risk_flags"):
        assert plugins.auto_resolution_condition(name) is not None, name
    assert "sla" in plugins.appeal_related()


def test_registered_tasks_and_beat_entries_name_real_tasks():
    from config.celery import app, merge_plugin_beat_schedule

    schedule = merge_plugin_beat_schedule(app)
    for name, task in PLUGIN_TASKS.items():
        assert schedule[name]["task"] == task
        assert schedule[name]["schedule"] == settings.BEAT_INTERVALS[name]
        assert task in app.tasks, f"{task} is not registered in this process"
    assert registry.beat_schedule().keys() == PLUGIN_TASKS.keys()


def test_url_includes_from_plugins_resolve():
    included = {inc.module for inc in registry.api_url_includes()} | {inc.module for inc in registry.web_url_includes()}
    assert included == {
        "appeals.evidence.api", "appeals.evidence.web", "appeals.verification.api", "appeals.verification.web",
        "appeals.sla.api", "appeals.sla.web", "appeals.surge.api", "appeals.surge.web", "appeals.ops.urls",
        "appeals.records.api", "appeals.records.web", "appeals.notifications.web",
        "appeals.platform.api", "appeals.platform.web",
        "appeals.batch.api", "appeals.batch.web",
        "appeals.recovery.api", "appeals.recovery.web",
        "appeals.notifications.sms.web",
        "appeals.intake.api", "appeals.intake.web",
        "appeals.webhooks.api", "appeals.webhooks.web",
    }
    assert resolve(reverse("api-evidence-list", kwargs={"reference": "AP-2026-000001"})).func.view_class.__module__ == "appeals.evidence.api"


@pytest.mark.django_db
def test_page_context_carries_the_registered_emergency_state(client, enterprise_admin):
    client.force_login(enterprise_admin)
    response = client.get("/")
    assert response.status_code in (200, 302)
    response = client.get(reverse("appeal_list"))
    assert response.status_code == 200
    assert "emergency" in response.context and "hotline" in response.context


@pytest.mark.worker
@pytest.mark.slow
def test_a_real_beat_sends_the_plugins_periodic_tasks(tmp_path):
    """`celery beat` reads the plug-ins' entries: with a one-second surge scan interval it
    sends appeals.tasks.surge_scan within seconds (to a broker prefix no worker consumes)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BEAT_SURGE_SCAN": "1",
        "CELERY_BROKER_KEYPREFIX": f"beat-test-{os.getpid()}:",
    }
    log = tmp_path / "beat.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=DEBUG", f"--schedule={tmp_path / 'schedule'}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 45
        sent = ""
        while time.monotonic() < deadline and proc.poll() is None:
            sent = log.read_text()
            if "Sending due task surge-scan (appeals.tasks.surge_scan)" in sent:
                break
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "Sending due task surge-scan (appeals.tasks.surge_scan)" in sent, sent[-3000:]
