"""Settings shared by every environment, read from environment variables.

With no environment at all the project runs embedded: SQLite, local-memory cache and
Celery tasks executed in-process. Setting DATABASE_URL / REDIS_URL switches to
PostgreSQL, the Redis cache and a real Celery broker (worker + beat).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-only-for-local-demo-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "appeals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "appeals.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "appeals.web.context.desk",
                "appeals.web.surge_context.emergency",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "appeals.User"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "appeals" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded evidence lives here; it is never exposed under a public URL (no MEDIA_URL route).
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "appeals.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "appeals.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="60/min"),
        "user": env("THROTTLE_USER", default="600/min"),
        "token": env("THROTTLE_TOKEN", default="10/min"),
    },
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Appeal desk API",
    "DESCRIPTION": "Appeals against bans of enterprise messaging accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery ---------------------------------------------------------------------------
# Without a broker, tasks run in-process (eagerly) so the embedded default needs nothing.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard time limit stays well below the broker's visibility timeout so a slow task is
# killed (and retried) before Redis redelivers it to another worker.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {"task": "appeals.tasks.verify_audit_chain", "schedule": 3600.0},
    "surge-scan": {"task": "appeals.tasks.surge_scan", "schedule": 60.0},
}

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="appeal-desk@localhost")

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Domain policy --------------------------------------------------------------------
# Numbers here are policy; their source is ../shared/DOMAIN.md ("Platform rules").
APPEALS = {
    # "the same phone number may request an unban at most 5 times a month"
    "MAX_APPEALS_PER_PHONE_PER_MONTH": env.int("MAX_APPEALS_PER_PHONE_PER_MONTH", default=5),
    # "a violation within the last six months counts against an appeal"
    "PRIOR_INCIDENT_LOOKBACK_DAYS": 183,
    # DOMAIN.md "Audit": history traceable back 730 days.
    "AUDIT_RETENTION_DAYS": 730,
    # Manual review channel for complex cases (DOMAIN.md "Verification").
    "HOTLINE": env("APPEALS_HOTLINE", default="400-800-1234"),
}
# Default severity of each incident kind (DOMAIN.md "What a ban incident looks like");
# a reviewer may change it per incident.
APPEALS_DEFAULT_SEVERITY = {
    "desktop_logout": "minor",
    "cannot_be_added": "minor",
    "adds_restricted": "minor",
    "requests_fail": "minor",
    "short_ban": "medium",
    "permanent_ban": "severe",
    "entity_ban": "severe",
}

# --- Surge detection ------------------------------------------------------------------
# DOMAIN.md "Surge alert": "When the number of appeals jumps above a threshold,
# administrators are notified and the emergency channel is activated." These are the
# defaults; managers override them on the surge settings page (appeals.SurgeSettings).
# The rule is documented with a worked example in docs/surge.md.
SURGE = {
    # Appeals counted over the last WINDOW_MINUTES (one-minute buckets).
    "WINDOW_MINUTES": env.int("SURGE_WINDOW_MINUTES", default=10),
    # A window never surges at or below this many appeals, whatever the history says.
    "FLOOR": env.int("SURGE_FLOOR", default=20),
    # ... and it surges only above FACTOR x the usual level (median of the same window on
    # each of the previous HISTORY_DAYS days).
    "FACTOR": env.float("SURGE_FACTOR", default=3.0),
    "HISTORY_DAYS": env.int("SURGE_HISTORY_DAYS", default=7),
    # An alert closes by itself after this many consecutive windows without a surge.
    "QUIET_WINDOWS": env.int("SURGE_QUIET_WINDOWS", default=3),
    # The emergency channel's hotline (DOMAIN.md "Verification": the manual channel).
    "HOTLINE": env("SURGE_HOTLINE", default=APPEALS["HOTLINE"]),
    # Redis key prefix of the per-minute counters (only used when REDIS_URL is set).
    "REDIS_PREFIX": "surge",
    # Where managers' alert emails link to.
    "SITE_URL": env("SITE_URL", default="http://127.0.0.1:8000"),
}
