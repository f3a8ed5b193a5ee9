"""The two ends of configuration: the embedded default and production settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE", "TEST_DB_NAME"}}


def _manage(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env or CLEAN_ENV, capture_output=True, text=True, timeout=timeout)


def test_production_settings_pass_check_deploy_with_no_warning():
    env = {**CLEAN_ENV, "SECRET_KEY": "x" * 20 + "-prod-secret-from-the-environment-0123456789", "ALLOWED_HOSTS": "appeals.example.com",
           "FIELD_ENCRYPTION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", "--settings=config.settings.production", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**CLEAN_ENV, "ALLOWED_HOSTS": "appeals.example.com"}
    env.pop("SECRET_KEY", None)
    result = _manage("check", "--settings=config.settings.production", env=env)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_embedded_default_needs_only_python(tmp_path):
    """No environment: SQLite, local-memory cache, in-process tasks; demo data loads through the services."""
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media")}
    probe = _manage("shell", "--no-imports", "-c", "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)", env={**CLEAN_ENV})
    assert probe.stdout.split() == ["django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache", "True"], probe.stderr
    assert _manage("migrate", "--noinput", env=env).returncode == 0
    first = _manage("seed_demo", env=env)
    assert first.returncode == 0, first.stderr
    for login in ("admin-a", "admin-b", "reviewer-1", "reviewer-2", "manager", "demo-pass-2026"):
        assert login in first.stdout
    again = _manage("seed_demo", env=env)
    assert again.returncode == 0, again.stderr
    counts = _manage("shell", "--no-imports", "-c", "from appeals.models import Appeal; print(Appeal.objects.count())", env=env)
    assert counts.stdout.strip() == "18"  # 9 cases per enterprise, created once
    assert "intact" in _manage("verify_audit", env=env).stdout


def test_production_api_schema_and_docs_need_a_signed_in_user(tmp_path):
    env = {**CLEAN_ENV, "SECRET_KEY": "x" * 20 + "-prod-secret-from-the-environment-0123456789",
           "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "false",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"}
    probe = (
        "from django.test import Client; c = Client(); s = c.get('/api/schema/?format=json'); d = c.get('/api/docs/'); "
        "print(s.status_code, s.json()['code'], d.status_code, d['Location'].split('?')[0]); "
        "print(s['Content-Security-Policy']); print(s['Permissions-Policy'])"
    )
    result = _manage("shell", "--no-imports", "--settings=config.settings.production", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    status, csp, permissions = result.stdout.strip().splitlines()[-3:]
    assert status == "401 not_authenticated 302 /login/"
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "camera=()" in permissions and "geolocation=()" in permissions
