"""Checks every long-running process makes before it serves (gunicorn.conf.py, config/celery.py).

The deployment checks with these tags talk to outside services (the evidence bucket); they
fail the start with their message instead of failing a user's first request.
"""

import sys

STARTUP_CHECK_TAGS = ["evidence_storage"]


def startup_errors() -> list[str]:
    import django
    from django.apps import apps
    from django.core import checks

    from config.environment import use_settings_module

    use_settings_module()
    if not apps.ready:
        django.setup()
    found = checks.run_checks(tags=STARTUP_CHECK_TAGS, include_deployment_checks=True)
    return [f"{m.id}: {m.msg}" for m in found if m.level >= checks.ERROR]


def startup_checks_or_exit(process: str) -> None:
    errors = startup_errors()
    if errors:
        for error in errors:
            print(f"{process} refuses to start: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1)


def warm_up() -> None:
    """What every process serving requests would otherwise do on its first request, done once
    in a master that forks them (gunicorn's preload_app): import the URLconf, hence every view,
    and load the translation catalogues. Opens no connection, and closes any database
    connection opened so far, so that no forked worker shares a socket with another."""
    from django.conf import settings
    from django.db import connections
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - the attribute's lookup imports the views
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("")
    connections.close_all()
