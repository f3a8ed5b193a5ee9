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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "appeals.shared.middleware.RequestContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "appeals.shared.middleware.PermissionsPolicyMiddleware",
]

# --- Security headers -------------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts and styles from this site only, no inline
# script, event handler or style attribute (page behaviour lives in appeals/static/appeals/*.js).
# CSP_IMG_SRC_EXTRA: origins images may come from besides this site, e.g. the object storage
# that evidence thumbnails redirect to (presigned S3 URLs).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *env.list("CSP_IMG_SRC_EXTRA", default=[])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (appeals.shared.middleware.PermissionsPolicyMiddleware): browser features
# no page here uses are switched off for this site and anything it embeds.
PERMISSIONS_POLICY = {
    feature: [] for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
        "microphone", "midi", "payment", "publickey-credentials-get", "usb", "xr-spatial-tracking",
    )
}

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
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "appeals"}}
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
# Brute-force protection for the sign-in page: failures per client IP and per username.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=10)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)

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
    # Token first: an anonymous request then gets 401 with "WWW-Authenticate: Token", not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token, also taken after "Bearer" (what generated OpenAPI clients send).
        "appeals.api.auth.BearerOrTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON bodies only; the one view that takes an upload (evidence) names MultiPartParser itself.
    # The schema then declares application/json alone, as a generated client needs.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The browsable API may use inline styles (DRF's templates have them), never inline script.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "appeals.api.renderers.CspBrowsableAPIRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "appeals.shared.pagination.Pagination",
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
# The schema (/api/schema/) and Swagger UI (/api/docs/) need a signed-in user when True
# (production settings); readable by anyone otherwise.
API_DOCS_REQUIRE_LOGIN = env.bool("API_DOCS_REQUIRE_LOGIN", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Appeal desk API",
    "DESCRIPTION": "Appeals against bans of enterprise messaging accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One English schema whatever the request's language (appeals/api/schema.py).
    "DEFAULT_GENERATOR_CLASS": "appeals.api.schema.EnglishSchemaGenerator",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "appeals.api.schema.document_error_responses",
    ],
    # Several components have a field called "state"; give each choice set a stable name.
    "ENUM_NAME_OVERRIDES": {
        "AppealStateEnum": "appeals.core.models.AppealState",
        "MessageStateEnum": "appeals.notifications.models.MessageState",
        "VerificationStateEnum": ["none", "pending", "expired", "verified", "locked"],
        "IncidentKindEnum": "appeals.core.models.IncidentKind",
        "EvidenceKindEnum": "appeals.evidence.models.EvidenceKind",
        "SurgeStateEnum": "appeals.surge.models.SurgeState",
    },
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
# Periodic tasks are registered by each capability's plug-in (appeals/*/plugin.py) and merged
# into the beat schedule by config/celery.py; their intervals (seconds) are policy, here.
CELERY_BEAT_SCHEDULER = "config.celery:PluginScheduler"
BEAT_INTERVALS = {
    "verify-audit-chain": env.float("BEAT_VERIFY_AUDIT_CHAIN", default=3600.0),
    "surge-scan": env.float("BEAT_SURGE_SCAN", default=60.0),
    "notifications-outbox-sweep": env.float("BEAT_OUTBOX_SWEEP", default=60.0),
    "sla-scan": env.float("BEAT_SLA_SCAN", default=60.0),
    "sla-auto-resolve": env.float("BEAT_SLA_AUTO_RESOLVE", default=300.0),
    "sla-report-snapshots": env.float("BEAT_SLA_REPORT_SNAPSHOTS", default=900.0),
    "evidence-sweep": env.float("BEAT_EVIDENCE_SWEEP", default=300.0),
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

# --- Verification and notifications ---------------------------------------------------
# Source: ../shared/DOMAIN.md "Verification: two independent proofs" (SMS code to the legal
# representative, time-limited link to the registered email); the caps below bound what one
# appeal or one phone can be sent.
VERIFICATION = {
    # Off only for fixtures/demo data that must skip intake; production leaves it on.
    "REQUIRED": env.bool("VERIFICATION_REQUIRED", default=True),
    "SMS_CODE_DIGITS": 6,
    "SMS_CODE_TTL_SECONDS": env.int("SMS_CODE_TTL_SECONDS", default=600),  # 10 minutes
    "SMS_MAX_WRONG_ATTEMPTS": 5,
    "RESEND_COOLDOWN_SECONDS": env.int("VERIFICATION_RESEND_COOLDOWN", default=60),
    # Caps on verification messages over a rolling window (the messages quote the window).
    "CAP_WINDOW_HOURS": env.int("VERIFICATION_CAP_WINDOW_HOURS", default=24),
    "SMS_DAILY_CAP_PER_PHONE": env.int("SMS_DAILY_CAP_PER_PHONE", default=10),
    "DAILY_CAP_PER_APPEAL": env.int("VERIFICATION_DAILY_CAP_PER_APPEAL", default=5),
    "EMAIL_TOKEN_TTL_SECONDS": env.int("EMAIL_TOKEN_TTL_SECONDS", default=24 * 3600),
    "EMAIL_TOKEN_SALT": "appeals.verification.email-link",
}
# Absolute links in emails (the email-confirmation link) start with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

NOTIFICATIONS = {
    # Provider errors are retried with exponential back-off: base * 2**(attempt-1), capped.
    "MAX_ATTEMPTS": env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6),
    "BACKOFF_BASE_SECONDS": env.float("NOTIFICATIONS_BACKOFF_BASE", default=5.0),
    "BACKOFF_MAX_SECONDS": env.float("NOTIFICATIONS_BACKOFF_MAX", default=600.0),
    # Below the broker's visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS) so a stuck
    # send is killed before Redis hands the task to another worker.
    "TASK_SOFT_TIME_LIMIT": env.int("NOTIFICATIONS_TASK_SOFT_TIME_LIMIT", default=50),
    "TASK_TIME_LIMIT": env.int("NOTIFICATIONS_TASK_TIME_LIMIT", default=60),
    # A claimed ("sending") row older than this belongs to a dead worker (> TASK_TIME_LIMIT).
    "SEND_LEASE_SECONDS": env.int("NOTIFICATIONS_SEND_LEASE", default=90),
    # The sweeper re-enqueues queued rows older than this (the broker was down at commit).
    "SWEEP_AFTER_SECONDS": env.int("NOTIFICATIONS_SWEEP_AFTER", default=60),
    "SWEEP_BATCH": 500,
    # Empty: Celery's default queue. Tests give their own workers a private queue.
    "QUEUE": env("NOTIFICATIONS_QUEUE", default=""),
    # Dotted path of fn(*, message_id, recipient) -> True / False / None (cannot tell): asks the
    # mail relay or provider whether an email whose worker died mid-send was accepted. Empty:
    # such an email is marked failed with the reason, never sent blind a second time.
    "EMAIL_LOOKUP": env("NOTIFICATIONS_EMAIL_LOOKUP", default=""),
}

# SMS backends work like EMAIL_BACKEND: console (default), locmem (tests), file, alibaba.
SMS_BACKEND = env("SMS_BACKEND", default="appeals.notifications.sms.backends.console.SmsBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "sms-outbox"))
# Alibaba Cloud SMS (dysmsapi SendSms, RPC signature v1). TEMPLATES maps our template
# names to the TemplateCode approved in the Alibaba console.
ALIBABA_SMS = {
    "ENDPOINT": env("ALIBABA_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/"),
    "ACCESS_KEY_ID": env("ALIBABA_SMS_ACCESS_KEY_ID", default=""),
    "ACCESS_KEY_SECRET": env("ALIBABA_SMS_ACCESS_KEY_SECRET", default=""),
    "SIGN_NAME": env("ALIBABA_SMS_SIGN_NAME", default="申诉服务台"),
    "REGION_ID": env("ALIBABA_SMS_REGION_ID", default="cn-hangzhou"),
    "TIMEOUT_SECONDS": env.float("ALIBABA_SMS_TIMEOUT", default=10.0),
    "TEMPLATES": {
        "verification_code": env("ALIBABA_SMS_TEMPLATE_CODE", default="SMS_000000001"),
        "surge_alert": env("ALIBABA_SMS_TEMPLATE_SURGE", default="SMS_000000002"),
    },
}

# --- Evidence library -----------------------------------------------------------------
# Source: ../shared/DOMAIN.md "The evidence library" and "Risk signals in operation logs";
# safe uploads, integrity, quotas. Sizes in bytes.
_MB = 1024 * 1024
# Uploads above this go to a temporary file, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
FILE_UPLOAD_HANDLERS = [
    "appeals.evidence.uploads.LargeChunkMemoryFileUploadHandler",
    # Hashes each chunk as it arrives from the network (SHA-256 while streaming).
    "appeals.evidence.uploads.HashingTemporaryFileUploadHandler",
]
EVIDENCE = {
    "MAX_BYTES_PER_KIND": {
        "business_license": env.int("EVIDENCE_MAX_LICENSE_BYTES", default=20 * _MB),
        "admin_id_front": env.int("EVIDENCE_MAX_ID_BYTES", default=10 * _MB),
        "admin_id_back": env.int("EVIDENCE_MAX_ID_BYTES", default=10 * _MB),
        "authorization_letter": env.int("EVIDENCE_MAX_LETTER_BYTES", default=20 * _MB),
        "ban_notice": env.int("EVIDENCE_MAX_SCREENSHOT_BYTES", default=10 * _MB),
        "operation_log": env.int("EVIDENCE_MAX_LOG_BYTES", default=256 * _MB),
        "other": env.int("EVIDENCE_MAX_OTHER_BYTES", default=20 * _MB),
    },
    "MAX_ITEMS_PER_APPEAL": env.int("EVIDENCE_MAX_ITEMS_PER_APPEAL", default=30),
    "MAX_TOTAL_BYTES_PER_APPEAL": env.int("EVIDENCE_MAX_TOTAL_BYTES_PER_APPEAL", default=512 * _MB),
    # Pillow's own limit is ~89.5 Mpx (warning) / 179 Mpx (error); ID photos and
    # screenshots need far less. Above this the decode is refused as a decompression bomb.
    "MAX_IMAGE_PIXELS": env.int("EVIDENCE_MAX_IMAGE_PIXELS", default=40_000_000),
    "THUMBNAIL_SIZE": (320, 320),
    "PREVIEW_SIZE": (1600, 1600),
    # A presigned S3 link is only good for this long.
    "PRESIGNED_URL_SECONDS": env.int("EVIDENCE_PRESIGNED_URL_SECONDS", default=300),
    "CHUNK_SIZE": 1 * _MB,
    # The completeness rules are a guard on submit; see EVIDENCE_REQUIRED below.
    "ENFORCE_COMPLETENESS_ON_SUBMIT": env.bool("EVIDENCE_ENFORCE_COMPLETENESS", default=True),
    # A display copy still pending, or a log analysis pending or running, this long after it
    # was queued belongs to a dead worker: the evidence sweep runs it again. Above
    # CELERY_TASK_TIME_LIMIT, so a task still alive has been killed by its hard limit by then.
    "SWEEP_AFTER_SECONDS": env.int("EVIDENCE_SWEEP_AFTER", default=600),
    "SWEEP_BATCH": 200,
    # An item that strands its worker this many times (killed by the time limit, out of memory)
    # is marked failed instead of being queued again forever.
    "SWEEP_MAX_REQUEUES": env.int("EVIDENCE_SWEEP_MAX_REQUEUES", default=3),
}
# Completeness: every appeal needs these kinds; some incidents need more.
EVIDENCE_REQUIRED = {
    "ALWAYS": ["ban_notice", "admin_id_front", "admin_id_back", "authorization_letter"],
    "BY_INCIDENT_KIND": {"entity_ban": ["business_license"]},
    "BY_SEVERITY": {"severe": ["operation_log"]},
}
# Operation-log analysis (DOMAIN.md "Risk signals in operation logs" and the account
# isolation model).
EVIDENCE_LOG_RULES = {
    "MASS_ADD_MAX_PER_HOUR": 50,  # "more than 50 friend adds in one hour"
    "SENSITIVE_MAX_HITS_PER_MINUTE": 10,  # "more than 10 hits in one minute"
    "SENSITIVE_WORDS": ["红包", "返利", "赌博", "博彩", "色情", "代理", "刷单", "兼职", "加微信", "免费领取"],
    "ADD_ACTIONS": ["add_friend"],
    # action in the log -> the permission it needs (DOMAIN.md permission matrix)
    "ACTION_PERMISSIONS": {
        "add_friend": "send_messages",
        "send_message": "send_messages",
        "mass_message": "send_messages",
        "manage_accounts": "manage_accounts",
        "create_account": "manage_accounts",
        "delete_account": "manage_accounts",
        "api_call": "call_api",
        "export_data": "export_data",
    },
    "ACCOUNT_TYPE_PERMISSIONS": {
        "master": ["manage_accounts", "send_messages", "call_api", "export_data"],
        "operations": ["send_messages", "export_data"],
        "customer_service": ["send_messages"],
        "developer": ["call_api", "export_data"],
    },
    # Line numbers kept per flag / for malformed rows (the counts are always complete).
    "MAX_LINES_PER_FLAG": 200,
    "MAX_MALFORMED_LINES": 200,
    # A gzip log may not inflate beyond this (decompression bomb).
    "MAX_DECOMPRESSED_BYTES": env.int("EVIDENCE_LOG_MAX_DECOMPRESSED_BYTES", default=2048 * _MB),
}
# Evidence storage: local files under MEDIA_ROOT by default, S3 when a bucket is configured.


def evidence_s3_storage(*, bucket, endpoint_url=None, region="us-east-1", access_key=None, secret_key=None,
                        addressing_style="path", expire=300) -> dict:
    """The STORAGES entry for evidence on S3 or an S3-compatible server."""
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "access_key": access_key,
            "secret_key": secret_key,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": expire,
            "signature_version": "s3v4",
            # Reading an object spools it to a temporary file past 2 MiB (django-storages'
            # default of 0 keeps the whole object in memory).
            "max_memory_size": 2 * 1024 * 1024,
            # S3-compatible servers (MinIO, Ceph, moto) may not accept the CRC checksums
            # boto3 >= 1.36 sends by default: only compute/verify them when S3 requires it.
            "client_config": Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
            ),
        },
    }


EVIDENCE_S3_BUCKET = env("EVIDENCE_S3_BUCKET", default="")
if EVIDENCE_S3_BUCKET:
    STORAGES["evidence"] = evidence_s3_storage(
        bucket=EVIDENCE_S3_BUCKET,
        endpoint_url=env("EVIDENCE_S3_ENDPOINT_URL", default=None),
        region=env("EVIDENCE_S3_REGION", default="us-east-1"),
        access_key=env("EVIDENCE_S3_ACCESS_KEY_ID", default=None),
        secret_key=env("EVIDENCE_S3_SECRET_ACCESS_KEY", default=None),
        addressing_style=env("EVIDENCE_S3_ADDRESSING_STYLE", default="path"),
        expire=EVIDENCE["PRESIGNED_URL_SECONDS"],
    )
else:
    STORAGES["evidence"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No location: it follows MEDIA_ROOT. Never served under a URL.
        "OPTIONS": {"file_permissions_mode": 0o640, "directory_permissions_mode": 0o750},
    }

# --- Service levels (SLA) -------------------------------------------------------------
# Source: ../shared/DOMAIN.md "Service levels": minor cases resolved automatically within
# 24 hours, medium by manual review within 48 hours, severe by deep investigation within
# 7 working days of the mainland China calendar. These seed the SlaPolicy rows (a data
# migration); managers edit the rows afterwards, and a missing row falls back to these.
APPEALS_SLA = {
    "POLICIES": {"minor": ("clock_hours", 24), "medium": ("clock_hours", 48), "severe": ("working_days", 7)},
    # The assigned reviewer is warned once this share of the allowed time is used.
    "WARN_AT_FRACTION": env.float("SLA_WARN_AT_FRACTION", default=0.8),
    # Years of the `holidays` library's China calendar seeded into WorkCalendarDay.
    "CALENDAR_SEED_YEARS": list(range(2024, 2028)),
    # Name recorded on automated decisions (appeals.sla.services.auto_resolution_rule).
    "AUTO_RESOLUTION_RULE": "minor-auto-resolution-v1",
    # Breached / about-to-breach lists on the report page are capped at this many rows.
    "REPORT_LIST_LIMIT": 50,
    # All-tenant reports for these periods (last N days) are precomputed by a beat task.
    "SNAPSHOT_PERIODS_DAYS": [30, 90, 365],
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
