"""gunicorn settings (scripts/serve.sh runs `gunicorn -c gunicorn.conf.py config.wsgi`).

Every value can be set from the environment. Run behind a reverse proxy (nginx) that buffers
request bodies: the sync workers below are then never held by a slow client.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * multiprocessing.cpu_count() + 1, 9))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Uploads of large operation logs are hashed while they stream in: give a request a minute.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle each worker after this many requests (with jitter, so they do not all restart at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
# Workers fork from a master that has already imported the app, its URLs and views and its
# translations (config.startup.warm_up): a worker recycled after max_requests serves its first
# request at once, instead of spending ~0.2 s of CPU importing every view again. New code then
# needs a restart of gunicorn (not a HUP, which forks from the same preloaded master).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").strip().lower() not in ("0", "false", "no", "off")
# X-Forwarded-Proto is believed from these addresses only (the proxy on this host).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "appeal-desk"
# The app writes one JSON line per request itself (appeals.shared.middleware), with its request
# id and user; gunicorn's own lines (start, worker exits, timeouts) are JSON too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "appeals.shared.logs.JsonFormatter"}},
    "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": loglevel.upper(), "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": loglevel.upper(), "handlers": [], "propagate": False},
    },
}


def on_starting(server):
    """Before any worker: the evidence bucket exists (or is created when AWS_AUTO_CREATE_BUCKET
    is on); otherwise gunicorn exits with the reason instead of failing the first upload."""
    from config.startup import startup_checks_or_exit

    startup_checks_or_exit("gunicorn")


def when_ready(server):
    """Before the first worker forks: the preloaded app's imports done once, here, and no
    database connection left open for the workers to inherit."""
    if server.cfg.preload_app:
        from config.startup import warm_up

        warm_up()
