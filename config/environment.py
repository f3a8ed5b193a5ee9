"""Which settings module a process runs under: one rule for manage.py, the WSGI app and Celery.

DJANGO_SETTINGS_MODULE from the process environment; else the same variable from the
project's `.env` file (where the other settings are read too); else the local settings.
So a web process and a worker started from the same environment (or the same `.env`)
always run the same settings module; `scripts/serve.sh` exports the production one.
"""

import os
from pathlib import Path

DEFAULT_SETTINGS_MODULE = "config.settings.local"
DOTENV = Path(__file__).resolve().parent.parent / ".env"


def _from_dotenv(path: Path | None = None) -> str | None:
    try:
        lines = (path or DOTENV).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        if sep and key.strip() == "DJANGO_SETTINGS_MODULE":
            return value.strip().strip("'\"") or None
    return None


def use_settings_module() -> str:
    """Set DJANGO_SETTINGS_MODULE if the environment has not, and return it."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        os.environ["DJANGO_SETTINGS_MODULE"] = _from_dotenv() or DEFAULT_SETTINGS_MODULE
    return os.environ["DJANGO_SETTINGS_MODULE"]
