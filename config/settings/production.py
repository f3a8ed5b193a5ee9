"""Production settings: everything secret or site-specific comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DATABASES, env

# Every process under these settings (gunicorn, `celery worker`, `celery beat`, manage.py)
# refuses to start with DEBUG asked for, rather than run with it silently on or off.
if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured(
        "DEBUG is on under config.settings.production: refusing to start. Unset DEBUG (or set "
        "DEBUG=false); use config.settings.local for development."
    )
DEBUG = False
PRODUCTION = True
# Demo users with a published password never go into a production database (seed_demo refuses).
DEMO_DATA_ALLOWED = False
# Keep database connections for a minute (each checked before reuse, CONN_HEALTH_CHECKS)
# instead of opening one per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Static files straight from the app process, compressed and cache-busted (after collectstatic).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405
SECRET_KEY = env("SECRET_KEY")  # required: no default in production
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and the scraper talk plain HTTP to the app port: no redirect to https for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics needs METRICS_TOKEN (Bearer) or a client in METRICS_ALLOWED_NETWORKS.
METRICS_REQUIRE_AUTH = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The API schema and its Swagger UI are for signed-in users only.
API_DOCS_REQUIRE_LOGIN = env.bool("API_DOCS_REQUIRE_LOGIN", default=True)
