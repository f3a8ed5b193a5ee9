"""Settings shared by every environment, read from environment variables.

With no environment at all the project runs embedded: SQLite, local-memory cache and
Celery tasks executed in-process. Setting DATABASE_URL / REDIS_URL switches to
PostgreSQL, the Redis cache and a real Celery broker (worker + beat).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-only-for-local-demo-change-me")
# Keys for secrets at rest (appeals/shared/secrets.py): the first encrypts, all decrypt. Empty: one
# key derived from SECRET_KEY (local and test only; production refuses it, appeals.E601).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
DEBUG = env.bool("DEBUG", default=False)
# True under config.settings.production (and settings built on it).
PRODUCTION = False
# `seed_demo` (make run) may write its demo users; never under production settings.
DEMO_DATA_ALLOWED = True
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
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "appeals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # NUL characters, JSON nested too deep, domain refusals from plain views: 4xx, never 500.
    "appeals.shared.middleware.HostileInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "appeals.shared.middleware.RequestContextMiddleware",
    # A POST under /api/ with an Idempotency-Key is carried out once; a retry gets the first answer.
    "appeals.api.idempotency.IdempotencyMiddleware",
    "csp.middleware.CSPMiddleware",
    "appeals.shared.middleware.PermissionsPolicyMiddleware",
    # Last: turns a sign-in refused by login protection into a 429 page (appeals.web.auth).
    "axes.middleware.AxesMiddleware",
]
# Request counts, latencies and database queries per view for /metrics (appeals/ops/metrics.py).
MIDDLEWARE.insert(1, "appeals.ops.metrics.MetricsMiddleware")

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent requests (a case page loads its thumbnails at once,
    # each audited): WAL lets readers run beside the writer, a busy timeout makes writers queue,
    # and IMMEDIATE transactions take the write lock up front, so a transaction that read first
    # never fails to upgrade ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "transaction_mode": "IMMEDIATE",
    })
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements (only the hot list reads, appeals/shared/db.py prepared_values) are
    # planned once per connection; Django's own queries are never prepared and keep their plans.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
# A streaming replica for the reads that tolerate lag (appeals/shared/replica.py); unset: all on the primary.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    # A replica that does not answer must not hold a request up: the router falls back to the primary.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2))
    DATABASE_ROUTERS = ["appeals.shared.replica.ReplicaRouter"]
# Hot list reads as prepared statements (appeals/shared/db.py prepared_values); False behind a
# transaction-pooling PgBouncer.
DATABASE_PREPARED_READS = env.bool("DATABASE_PREPARED_READS", default=True)
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=30.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
# A kept connection is checked before a request reuses it (a restarted PostgreSQL, a proxy's idle
# timeout): the request gets a fresh one instead of an error. Production keeps connections (60 s).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "appeals.User"

REDIS_URL = env("REDIS_URL", default="")
# Two deployments may share one Redis: each gives its cache (and broker, CELERY_BROKER_KEYPREFIX)
# its own prefix.
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="appeals")
if REDIS_URL:
    # A Redis outage degrades to per-process counting (appeals/shared/cache.py), never a 500.
    CACHES = {"default": {"BACKEND": "appeals.shared.cache.RedisFailOpenCache", "LOCATION": REDIS_URL, "KEY_PREFIX": CACHE_KEY_PREFIX}}
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

# The client's address (appeals.shared.client.client_ip): how many reverse proxies of ours
# stand in front of the app. 0 = X-Forwarded-For is ignored, REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Password guessing, for the sign-in page, the admin and the token endpoint alike: django-axes
# with its database handler and the limits of appeals.shared.login_guard (README "Sign-in").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_GUARD = {
    "PAIR_LIMIT": env.int("LOGIN_PAIR_LIMIT", default=5),  # one username from one address
    "ADDRESS_LIMIT": env.int("LOGIN_ADDRESS_LIMIT", default=20),  # one address, any usernames
    "ACCOUNT_LIMIT": env.int("LOGIN_ACCOUNT_LIMIT", default=10),  # one username, any addresses: then 1 per address
}
AXES_HANDLER = "appeals.shared.login_guard.LoginGuardHandler"
AXES_FAILURE_LIMIT = LOGIN_GUARD["PAIR_LIMIT"]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_COOLOFF_SECONDS", default=900))
AXES_RESET_ON_SUCCESS = False  # a success of the attacker's own account must not wipe its address's count
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts are not counted again
AXES_CLIENT_IP_CALLABLE = "appeals.shared.client.client_ip"
AXES_LOCKOUT_CALLABLE = "appeals.web.auth.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are audit events (auth.login); no second log

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "appeals" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded evidence lives here; it is never exposed under a public URL (no MEDIA_URL route).
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with "WWW-Authenticate: Token", not a bare 403.
    # Tokens are django-rest-knox's: stored hashed, with an expiry (REST_KNOX below).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's hashed, expiring tokens, after "Token" or "Bearer" (what generated OpenAPI clients send).
        "appeals.core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON bodies only, with a nesting limit and no NUL characters (a 400, never a 500); the one
    # view that takes an upload (evidence) names MultiPartParser itself. The schema then declares
    # application/json alone, as a generated client needs.
    "DEFAULT_PARSER_CLASSES": ["appeals.shared.parsers.SafeJSONParser"],
    # The browsable API may use inline styles (DRF's templates have them), never inline script.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "appeals.api.renderers.CspBrowsableAPIRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "appeals.shared.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "appeals.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "appeals.shared.throttling.AnonRateThrottle",
        "appeals.shared.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="60/min"),
        "user": env("THROTTLE_USER", default="600/min"),
        "token": env("THROTTLE_TOKEN", default="10/min"),
    },
    "PAGE_SIZE": 20,
    # Throttles key on the same client address as everything else (appeals.shared.client).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=20),
    "AUTH_HEADER_PREFIX": "Token",  # "Bearer" is accepted too (appeals.core.api.auth)
}
# The schema (/api/schema/) and Swagger UI (/api/docs/) need a signed-in user when True
# (production settings); readable by anyone otherwise.
API_DOCS_REQUIRE_LOGIN = env.bool("API_DOCS_REQUIRE_LOGIN", default=False)
# The Idempotency-Key header on every POST of the API (appeals/api/idempotency.py, IETF draft
# "The Idempotency-Key HTTP Header Field"): a key lives 24 hours from its first request; a second
# request with a key still being answered waits up to WAIT_SECONDS, then gets 409; a record left
# running by a dead process is taken over after STALE_SECONDS (above the gunicorn timeout).
IDEMPOTENCY = {
    "TTL_HOURS": env.float("IDEMPOTENCY_TTL_HOURS", default=24.0),
    "WAIT_SECONDS": env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0),
    "STALE_SECONDS": env.float("IDEMPOTENCY_STALE_SECONDS", default=300.0),
}
# Service accounts of the enforcement system (appeals/intake): how long a token a manager issues
# for one stays valid (they are revoked with the account, or one by one).
INTAKE = {
    "TOKEN_TTL_DAYS": env.int("INTAKE_TOKEN_TTL_DAYS", default=90),
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
        "ChannelEnum": "appeals.notifications.models.Channel",
        "MessageChannelEnum": "appeals.notifications.models.MessageChannel",
        "WebhookEventTypeEnum": "appeals.webhooks.models.WebhookEventType",
        "DeliveryOutcomeEnum": "appeals.webhooks.models.DeliveryOutcome",
        "PullStateEnum": "appeals.platform.models.PullState",
        "BatchGroupStateEnum": "appeals.batch.models.GroupState",
        "BatchRecommendationEnum": "appeals.batch.models.Recommendation",
        "BatchMemberStatusEnum": "appeals.batch.models.MemberStatus",
        "RecoveryAnchorEnum": "appeals.recovery.models.Anchor",
    },
}

# Deepest nesting of arrays/objects a JSON request body may have (appeals/shared/parsers.py).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

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
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A dead broker must fail a publish in a web request fast: the outbox row (or the
    # evidence item's pending state) is the truth, and the sweepers publish it again later.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0),
    # Prefix of every broker key (queues, unacked, bindings): "" = Celery's own names.
    "global_keyprefix": env("CELERY_BROKER_KEYPREFIX", default=""),
}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks are registered by each capability's plug-in (appeals/*/plugin.py) and merged
# into the beat schedule by config/celery.py; their intervals (seconds) are policy, here.
CELERY_BEAT_SCHEDULER = "config.celery:PluginScheduler"
# One beat schedules per deployment: the others (a standby, or one started by mistake) idle
# until the holder's Redis key lapses (config/celery.py BeatLock; only with a Redis broker).
BEAT_LOCK = {
    "ENABLED": env.bool("BEAT_LOCK_ENABLED", default=True),
    "KEY": env("BEAT_LOCK_KEY", default=f"{CACHE_KEY_PREFIX}:beat-lock"),
    # A dead beat's lock lapses after this; the survivor takes over within it.
    "TTL_SECONDS": env.float("BEAT_LOCK_TTL", default=30.0),
}
BEAT_INTERVALS = {
    "verify-audit-chain": env.float("BEAT_VERIFY_AUDIT_CHAIN", default=3600.0),
    "surge-scan": env.float("BEAT_SURGE_SCAN", default=60.0),
    "notifications-outbox-sweep": env.float("BEAT_OUTBOX_SWEEP", default=60.0),
    "sla-scan": env.float("BEAT_SLA_SCAN", default=60.0),
    "sla-auto-resolve": env.float("BEAT_SLA_AUTO_RESOLVE", default=300.0),
    "sla-report-snapshots": env.float("BEAT_SLA_REPORT_SNAPSHOTS", default=900.0),
    # In December: remind the managers once when next year's holiday calendar is not confirmed.
    "sla-calendar-check": env.float("BEAT_SLA_CALENDAR_CHECK", default=3600.0),
    "evidence-sweep": env.float("BEAT_EVIDENCE_SWEEP", default=300.0),
    "ops-appeal-state-counts": env.float("BEAT_OPS_STATE_COUNTS", default=60.0),
    # Records (appeals/records, docs/operations.md): daily backup, monthly restore drill,
    # daily retention sweep and session/token purge.
    "records-backup": env.float("BEAT_RECORDS_BACKUP", default=86400.0),
    "records-restore-drill": env.float("BEAT_RECORDS_RESTORE_DRILL", default=30 * 86400.0),
    "records-retention": env.float("BEAT_RECORDS_RETENTION", default=86400.0),
    "records-purge-sessions": env.float("BEAT_RECORDS_PURGE_SESSIONS", default=86400.0),
    # Batch review (appeals/batch): re-publish a group's run whose task was lost.
    "batch-sweep": env.float("BEAT_BATCH_SWEEP", default=300.0),
    # Recovery plans (appeals/recovery): the reminders of rest periods that ended.
    "recovery-reminders": env.float("BEAT_RECOVERY_REMINDERS", default=900.0),
    # Expired Idempotency-Key records (appeals/api/idempotency.py).
    "idempotency-sweep": env.float("BEAT_IDEMPOTENCY_SWEEP", default=3600.0),
}

# --- Email ----------------------------------------------------------------------------
# The console backends (email here, SMS below) print a message's text, with its code or link,
# only when CONSOLE_MESSAGES_IN_FULL is on (local settings); otherwise who, what template, and
# how long, so no code or token reaches a log.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="appeals.notifications.console.EmailBackend")
CONSOLE_MESSAGES_IN_FULL = env.bool("CONSOLE_MESSAGES_IN_FULL", default=False)
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="appeal-desk@localhost")

# --- Logging --------------------------------------------------------------------------
# One JSON object per line on stderr (web, worker and beat alike): timestamp, level, logger,
# message, request_id, user_id, appeal, then the record's own fields (appeals/shared/logs.py).
# LOG_FORMAT=text for a plain line. Whatever matches LOG_REDACT_PATTERNS is masked (the email
# link's token; codes are never put in a log line in the first place).
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOG_REDACT_PATTERNS = [r"(?<=/verify/email/)[^/\s?#\"']+", r"(?<=[?&]token=)[^&\s#\"']+",
                       # WeCom's API carries its secret and token in the query string (appeals.platform)
                       r"(?<=[?&]corpsecret=)[^&\s#\"']+", r"(?<=[?&]access_token=)[^&\s#\"']+"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "appeals.shared.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "appeals.shared.logs.JsonFormatter", "redact": LOG_REDACT_PATTERNS},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO").strip().upper()},
    "loggers": {
        # At DEBUG these print signed requests and presigned URLs: warnings only, whatever LOG_LEVEL says.
        **{name: {"level": "WARNING"} for name in ("botocore", "boto3", "s3transfer", "urllib3")},
        # httpx logs every request's URL at INFO: WeCom's carry corpsecret= and access_token=.
        **{name: {"level": "WARNING"} for name in ("httpx", "httpcore")},
        # Login protection logs every attempt at INFO; failures and lockouts are WARNING (and audited).
        "axes": {"level": env("AXES_LOG_LEVEL", default="WARNING").strip().upper()},
        # pikepdf announces its logger bridge at INFO on import.
        "pikepdf": {"level": "WARNING"},
    },
}

# --- Error reporting ------------------------------------------------------------------
# Sentry (or a compatible server) only when SENTRY_DSN is set; never personal data, request
# bodies or local variables (a code or token may be in either). See config/sentry.py.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default="production"),
                release=env("SENTRY_RELEASE", default=None), traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))

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
# --- Backups and retention (appeals/records; procedure in docs/operations.md) -----------
# DOMAIN.md asks for 3-2-1 copies of the evidence: the daily backup writes one snapshot to every
# destination listed (local folders and/or s3://bucket/prefix URLs).
BACKUP = {
    "DESTINATIONS": env.list("BACKUP_DESTINATIONS", default=[]),
    # Credentials of the backup bucket(s); empty: boto3's own chain (environment, instance role).
    "S3": {
        "ENDPOINT_URL": env("BACKUP_S3_ENDPOINT_URL", default=""),
        "REGION": env("BACKUP_S3_REGION", default="us-east-1"),
        "ACCESS_KEY_ID": env("BACKUP_S3_ACCESS_KEY_ID", default=""),
        "SECRET_ACCESS_KEY": env("BACKUP_S3_SECRET_ACCESS_KEY", default=""),
        "ADDRESSING_STYLE": env("BACKUP_S3_ADDRESSING_STYLE", default="path"),
    },
    # Where a snapshot is assembled when no destination is a local folder (default: the temp dir).
    "STAGING_DIR": env("BACKUP_STAGING_DIR", default=""),
    # The monthly drill restores the newest snapshot of the first destination into this scratch
    # database (default: <database name>_restore_drill), dropped afterwards.
    "DRILL_DATABASE": env("BACKUP_DRILL_DATABASE", default=""),
    "RESTORE_JOBS": env.int("BACKUP_RESTORE_JOBS", default=2),  # pg_restore --jobs
    "WORKERS": env.int("BACKUP_WORKERS", default=4),  # parallel evidence object copies
}
RETENTION = {
    # Personal data of a closed case (ID-card images, phone numbers, email addresses) is erased
    # or masked this many days after the case closed, unless a manager put it under legal hold.
    "PERSONAL_DATA_DAYS": env.int("PERSONAL_DATA_RETENTION_DAYS", default=365),
    "BATCH": env.int("RETENTION_BATCH", default=200),
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
    # (The per-phone SMS cap is the outbox's, for every SMS: NOTIFICATIONS below.)
    "DAILY_CAP_PER_APPEAL": env.int("VERIFICATION_DAILY_CAP_PER_APPEAL", default=5),
    "EMAIL_TOKEN_TTL_SECONDS": env.int("EMAIL_TOKEN_TTL_SECONDS", default=24 * 3600),
    "EMAIL_TOKEN_SALT": "appeals.verification.email-link",
}
# Absolute links in emails (the email-confirmation link) start with this.
# Where links in messages point. Empty: the host of the request that caused the message (checked
# against ALLOWED_HOSTS), so `make run HOST=...` works on any port; set it in production.
SITE_URL = env("SITE_URL", default="")
# The local inbox (/dev/inbox/, appeals/notifications/dev_inbox.py): local settings only.
DEV_INBOX = False
DEV_INBOX_DIR = env("DEV_INBOX_DIR", default=str(BASE_DIR / ".dev-inbox"))
# Lists count exactly up to this many rows, then take the planner's estimate (appeals/shared/pagination.py).
PAGINATION_EXACT_COUNT_LIMIT = env.int("PAGINATION_EXACT_COUNT_LIMIT", default=1000)
# How long a process reuses a big list's estimated count (appeals/shared/pagination.py).
PAGINATION_ESTIMATE_SECONDS = env.int("PAGINATION_ESTIMATE_SECONDS", default=10)
# Pages ending within this many rows are read in one joined query; deeper ones ids first.
PAGINATION_SINGLE_QUERY_DEPTH = env.int("PAGINATION_SINGLE_QUERY_DEPTH", default=1000)

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
    # Every SMS queued to one phone (canonical 11 digits) counts against this cap over a
    # rolling window, the first verification code of a submission included (outbox._check_sms_cap).
    "SMS_DAILY_CAP_PER_PHONE": env.int("SMS_DAILY_CAP_PER_PHONE", default=10),
    "SMS_CAP_WINDOW_HOURS": env.int("SMS_CAP_WINDOW_HOURS", default=env.int("VERIFICATION_CAP_WINDOW_HOURS", default=24)),
    # Empty: Celery's default queue. Tests give their own workers a private queue.
    "QUEUE": env("NOTIFICATIONS_QUEUE", default=""),
    # Dotted path of fn(*, message_id, recipient) -> True / False / None (cannot tell): asks the
    # mail relay or provider whether an email whose worker died mid-send was accepted. Empty:
    # such an email is marked failed with the reason, never sent blind a second time.
    "EMAIL_LOOKUP": env("NOTIFICATIONS_EMAIL_LOOKUP", default=""),
}

# Signed webhooks (appeals/webhooks/, delivered by the outbox: appeals/notifications/webhook.py).
WEBHOOKS = {
    # A receiver must answer within these (seconds); a timeout is retried like a 5xx. Below
    # NOTIFICATIONS["TASK_SOFT_TIME_LIMIT"] so a slow receiver never outlives the send's lease.
    "CONNECT_TIMEOUT_SECONDS": env.float("WEBHOOKS_CONNECT_TIMEOUT", default=5.0),
    "READ_TIMEOUT_SECONDS": env.float("WEBHOOKS_READ_TIMEOUT", default=10.0),
    # Attempts per delivery before it is marked failed (a manager can redeliver it); the
    # back-off is the outbox's (NOTIFICATIONS BACKOFF_*), so 15 attempts span about 1.5 hours.
    "MAX_ATTEMPTS": env.int("WEBHOOKS_MAX_ATTEMPTS", default=15),
    # Receivers should refuse a webhook-timestamp further than this from their clock (docs/webhooks.md).
    "REPLAY_WINDOW_SECONDS": 300,
    # After a rotation the old secret still signs (a second v1 signature) for this long by default.
    "PREVIOUS_SECRET_HOURS": env.int("WEBHOOKS_PREVIOUS_SECRET_HOURS", default=24),
    # Plain http to a loopback address (a receiver on this machine): local and test settings only.
    # Otherwise endpoints are https, and never to loopback, link-local (cloud metadata), private
    # or reserved addresses.
    "ALLOW_LOOPBACK_HTTP": env.bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=False),
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
        "recovery_rest_ends": env("ALIBABA_SMS_TEMPLATE_RECOVERY", default="SMS_000000003"),
    },
}
# Tencent Cloud SMS (API 3.0 SendSms, version 2021-01-11, TC3-HMAC-SHA256). TEMPLATES maps our
# template names to the TemplateId approved in the Tencent console and the order of its parameters.
TENCENT_SMS = {
    "ENDPOINT": env("TENCENT_SMS_ENDPOINT", default="https://sms.tencentcloudapi.com/"),
    "SECRET_ID": env("TENCENT_SMS_SECRET_ID", default=""),
    "SECRET_KEY": env("TENCENT_SMS_SECRET_KEY", default=""),
    "SDK_APP_ID": env("TENCENT_SMS_SDK_APP_ID", default=""),
    "SIGN_NAME": env("TENCENT_SMS_SIGN_NAME", default="申诉服务台"),
    "REGION": env("TENCENT_SMS_REGION", default="ap-guangzhou"),
    "TIMEOUT_SECONDS": env.float("TENCENT_SMS_TIMEOUT", default=10.0),
    "TEMPLATES": {
        "verification_code": {"id": env("TENCENT_SMS_TEMPLATE_CODE", default="1000001"), "params": ["code", "minutes"]},
        "surge_alert": {"id": env("TENCENT_SMS_TEMPLATE_SURGE", default="1000002"),
                        "params": ["slice", "count", "window", "usual"]},
    },
}
# SMS failover (SMS_BACKEND = appeals.notifications.sms.backends.failover.SmsBackend): the
# providers in order of preference, each a name of SMS_PROVIDER_BACKENDS.
SMS_PROVIDERS = env.list("SMS_PROVIDERS", default=["alibaba", "tencent"])
SMS_PROVIDER_BACKENDS = {
    "alibaba": "appeals.notifications.sms.backends.alibaba.SmsBackend",
    "tencent": "appeals.notifications.sms.backends.tencent.SmsBackend",
    "console": "appeals.notifications.sms.backends.console.SmsBackend",
    "locmem": "appeals.notifications.sms.backends.locmem.SmsBackend",
}
# The per-provider circuit breaker (appeals/notifications/sms/health.py). Policy: a provider
# that fails 5 times within 2 minutes rests 60 s, then one message probes it.
SMS_FAILOVER = {
    "FAILURE_THRESHOLD": env.int("SMS_BREAKER_FAILURES", default=5),
    "WINDOW_SECONDS": env.int("SMS_BREAKER_WINDOW", default=120),
    "COOL_DOWN_SECONDS": env.float("SMS_BREAKER_COOL_DOWN", default=60.0),
    # How long one half-open probe holds the slot (longer than a provider call may take).
    "PROBE_SECONDS": env.int("SMS_BREAKER_PROBE", default=30),
    # The success rates on the manager's page: the last hour, by minute.
    "STATS_MINUTES": env.int("SMS_STATS_MINUTES", default=60),
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
    # A gzip operation log is inflated once at upload and refused as soon as it grows past
    # this size (log_too_large) or past this many times the compressed bytes read so far
    # (log_ratio; checked once it has inflated more than LOG_RATIO_GRACE_BYTES).
    "LOG_MAX_INFLATED_BYTES": env.int("EVIDENCE_LOG_MAX_INFLATED_BYTES", default=512 * _MB),
    "LOG_MAX_INFLATE_RATIO": env.int("EVIDENCE_LOG_MAX_INFLATE_RATIO", default=100),
    "LOG_RATIO_GRACE_BYTES": env.int("EVIDENCE_LOG_RATIO_GRACE_BYTES", default=16 * _MB),
    # A PDF is checked object by object (appeals/evidence/pdf.py); one with more is refused
    # (pdf_unreadable) rather than costing the request minutes.
    "PDF_MAX_OBJECTS": env.int("EVIDENCE_PDF_MAX_OBJECTS", default=20_000),
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
    # Rows that record a ban or lock by the platform itself: reported as incident markers.
    "BAN_ACTIONS": ["platform_ban"],
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
    # (The upload already refused anything past EVIDENCE["LOG_MAX_INFLATED_BYTES"]; this is the backstop.)
    "MAX_DECOMPRESSED_BYTES": env.int("EVIDENCE_LOG_MAX_DECOMPRESSED_BYTES", default=env.int("EVIDENCE_LOG_MAX_INFLATED_BYTES", default=512 * _MB)),
}
# WeCom's server API (appeals.platform): where it answers (a local stand-in in development:
# scripts/wecom-standin.py) and the limits its documentation states for the operation-log lists
# ("获取成员操作记录" / "获取管理端操作日志": 7 days per call, nothing older than 180 days,
# 600 calls a minute, at most 400 records a page).
WECOM_API_BASE = env("WECOM_API_BASE", default="https://qyapi.weixin.qq.com")
WECOM = {
    "LOOKBACK_DAYS": 7,  # DOMAIN.md: the account's operation log for the last 7 days before the ban
    "MAX_SPAN_DAYS": 7,
    "MAX_AGE_DAYS": 180,
    "RATE_LIMIT_CALLS": env.int("WECOM_RATE_LIMIT_CALLS", default=600),
    "RATE_LIMIT_PERIOD": env.float("WECOM_RATE_LIMIT_PERIOD", default=60.0),
    "RATE_LIMIT_BURST": 10,
    "PAGE_LIMIT": 400,
    "MAX_PAGES": env.int("WECOM_MAX_PAGES", default=5000),
    # errcode -1 (system busy), 45009 (frequency limit) and transport errors: tried again after
    # BACKOFF_BASE * 2**n seconds (capped at BACKOFF_MAX), at most MAX_RETRIES times in a row.
    "MAX_RETRIES": env.int("WECOM_MAX_RETRIES", default=6),
    "BACKOFF_BASE": env.float("WECOM_BACKOFF_BASE", default=1.0),
    "BACKOFF_MAX": 30.0,
    "TIMEOUT": env.float("WECOM_TIMEOUT", default=10.0),
    # A pull still queued or running this long after it was requested lost its worker (above the
    # task's 1800 s time limit): the next request marks it failed and starts afresh.
    "STALE_AFTER_SECONDS": env.int("WECOM_PULL_STALE_AFTER", default=3600),
    # An uploaded export (JSON pages, CSV, XLSX) may not be larger than this, nor an XLSX
    # inflate beyond UPLOAD_MAX_INFLATED_BYTES.
    "UPLOAD_MAX_BYTES": env.int("WECOM_UPLOAD_MAX_BYTES", default=50 * _MB),
    "UPLOAD_MAX_INFLATED_BYTES": env.int("WECOM_UPLOAD_MAX_INFLATED_BYTES", default=256 * _MB),
}
# Anomaly detection over the same operation logs (appeals/evidence/anomaly.py; issue 14 item 2):
# hourly feature vectors per account scored against the account's and its peers' baseline in
# the log. METHOD, Z_THRESHOLD and the floors were chosen with benchmarks/anomaly.py.
EVIDENCE_ANOMALY = {
    "ENABLED": env.bool("EVIDENCE_ANOMALY_ENABLED", default=True),
    "METHOD": "robust_z",  # robust_z | isolation_forest | both (forest AND z >= MIN_Z)
    "Z_THRESHOLD": 6.0,  # an hour is flagged when a feature's z reaches this
    "DRIVER_Z": 3.0,  # features at or above this z are named as what drove the flag
    "MAX_DRIVERS": 3,
    # feature -> smallest scale of its z (the floor for sparse features whose MAD is 0)
    "FEATURES": {
        "adds": 2.0, "messages": 3.0, "sensitive_hits": 1.0, "ips": 1.0, "devices": 1.0,
        "new_ips": 1.0, "new_devices": 1.0, "new_device_with_new_ip": 0.15,
        "api_calls": 2.0, "exports": 1.0,
        # an overtime hour at 22:00 is not an anomaly; 50 actions at 03:00 by a day worker is
        "off_hours_actions": 8.0,
    },
    "MESSAGE_ACTIONS": ["send_message", "mass_message"],
    "API_ACTIONS": ["api_call"],
    "EXPORT_ACTIONS": ["export_data"],
    "OFF_HOURS": (22, 7),  # 22:00-07:00 Asia/Shanghai, the log's local time
    "MIN_ACCOUNT_HOURS": 8,  # fewer active hours: the account is judged against its peers only
    # An account active in at least this many hours of a daypart (working / off-hours) has a habit
    # there, and an hour is judged against that habit too (a nightly batch job is not an anomaly).
    "HABIT_MIN_HOURS": 3,
    # An IP / device is unfamiliar to an account when seen in at most this many of its active
    # hours and at most this share of them.
    "RARE_MAX_HOURS": 2,
    "RARE_MAX_SHARE": 0.1,
    "MAX_FLAGGED_HOURS": 500,
    "MAX_LINES_PER_HOUR": 100,
    "ISOLATION_FOREST": {"N_ESTIMATORS": 100, "MAX_SAMPLES": 256, "RANDOM_STATE": 0, "THRESHOLD": 0.62, "MIN_Z": 3.0},
}
# Account health from the operation log (appeals.evidence.health), per account and Asia/Shanghai day.
# Source: DOMAIN.md "Account health metrics": below ~5 % add acceptance the platform silently
# drops requests; keep delete/block under 10 % a day; complaints matter most. DOMAIN.md gives no
# figure for the reply rate, the complaint rate or daily activity: those are this desk's policy.
HEALTH_THRESHOLDS = {
    "ACCEPTANCE_RATE_MIN": 0.05,  # DOMAIN.md: below ~5 % requests are silently dropped
    "DELETE_BLOCK_RATE_MAX": 0.10,  # DOMAIN.md: keep deletes + blocks under 10 % a day
    "COMPLAINT_RATE_MAX": 0.01,  # policy: complaints per customer reached (messages + requests sent)
    "COMPLAINTS_PER_DAY_MAX": 3,  # policy: "repeated complaints" (DOMAIN.md kind 5): this many in a day flags whatever the rate
    "REPLY_RATE_MIN": 0.10,  # policy: replies per message sent
    "ACTIVITY_SPIKE_FACTOR": 3,  # policy: a day above 3x the account's median day is a spike...
    "ACTIVITY_SPIKE_MIN": 200,  # ...when it holds at least this many actions
    "ACTIVITY_BASELINE_MIN_DAYS": 3,  # the median needs this many days of the account
    # A rate is shown from its first event, but flagged only on a day with this many behind it
    # ("ordinary accounts manage about 20 outbound adds a day", DOMAIN.md).
    "MIN_DAILY_SAMPLE": 20,
    # Line numbers kept per counter of each account-day (a flag gets those of its counters: an
    # acceptance flag up to 2 x 50). Lower than EVIDENCE_LOG_RULES["MAX_LINES_PER_FLAG"] (200):
    # every row feeds its account-day's counters, and recording 200 lines per counter cost about a
    # tenth of the analysis' throughput (benchmarks/evidence_log_analysis.py).
    "MAX_LINES_PER_FLAG": 50,
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
# A missing bucket is a start-up error (`check --deploy`, gunicorn and the worker start), or is
# created then when this is on; never a failure on the first upload.
AWS_AUTO_CREATE_BUCKET = env.bool("AWS_AUTO_CREATE_BUCKET", default=False)
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
    "REDIS_PREFIX": env("SURGE_REDIS_PREFIX", default="surge"),
    # Where managers' alert emails link to.
    "SITE_URL": env("SITE_URL", default="http://127.0.0.1:8000"),
}

# --- Batch review (appeals/batch/, issue 14 item 7) ------------------------------------------
# Alike open appeals of a ban wave, grouped for one recommendation and one confirmation; every
# case still takes its own transition. See docs/batch_review.md.
BATCH = {
    # Ban times of one group lie within this many minutes; unset (0): the surge window (SURGE).
    "WINDOW_MINUTES": env.int("BATCH_WINDOW_MINUTES", default=0),
    # Two cases have a similar risk picture when their sets of flagged log-analysis rules overlap
    # at least this much (Jaccard; two clean logs are alike).
    "RISK_JACCARD_MIN": env.float("BATCH_RISK_JACCARD_MIN", default=0.5),
    # Fewer alike cases than this are left to individual review.
    "MIN_GROUP_SIZE": env.int("BATCH_MIN_GROUP_SIZE", default=2),
    "MAX_GROUP_SIZE": env.int("BATCH_MAX_GROUP_SIZE", default=2000),
    # Cases per progress update of the background run (each case is its own transaction).
    "CHUNK_SIZE": env.int("BATCH_CHUNK_SIZE", default=50),
    # A running group whose progress has not moved for this long has lost its task: the sweep
    # publishes the run again (the run is idempotent).
    "STALE_SECONDS": env.int("BATCH_STALE_SECONDS", default=600),
}

# --- Operations: health and metrics (appeals/ops/, README "Health and metrics") ---------
OPS = {
    # A Celery worker writes a heartbeat this often; /readyz fails when the newest is older
    # than WORKER_HEARTBEAT_MAX_AGE.
    "WORKER_HEARTBEAT_SECONDS": env.float("OPS_WORKER_HEARTBEAT_SECONDS", default=30.0),
    "WORKER_HEARTBEAT_MAX_AGE": env.float("OPS_WORKER_HEARTBEAT_MAX_AGE", default=120.0),
    # Each readiness probe (database, cache, broker, storage) gets this long before it counts as failed.
    "CHECK_TIMEOUT_SECONDS": env.float("OPS_CHECK_TIMEOUT", default=2.0),
}
# /metrics: open unless METRICS_REQUIRE_AUTH (on in production); then it needs
# "Authorization: Bearer <METRICS_TOKEN>" or a client address in METRICS_ALLOWED_NETWORKS (CIDRs).
METRICS_REQUIRE_AUTH = env.bool("METRICS_REQUIRE_AUTH", default=False)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
