"""Test settings: the real PostgreSQL and Redis on this machine unless told otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/appeals")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

from .base import *  # noqa: E402,F401,F403
from .base import BASE_DIR, CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, EVIDENCE, VERIFICATION  # noqa: E402

# A thin backend that lets the test runner flush the append-only audit table
# (production keeps the stock backend, where TRUNCATE is refused by the trigger).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "tests.db_backend"
# Parallel checkouts on one machine each take their own test database (TEST_DB_NAME).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", "test_appeals")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / ".test-media" / os.environ.get("TEST_DB_NAME", "test_appeals")
# locmem unless the environment names a backend (a worker process sending to a test SMTP server).
EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Worker processes the tests start may choose another SMS backend through the environment.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "appeals.notifications.sms.backends.locmem.SmsBackend")
# Where the session's worker (file SMS backend) writes, and where the tests read it back.
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / ".test-sms" / os.environ.get("TEST_DB_NAME", "test_appeals")))
LANGUAGE_CODE = "en"

# A worker process started by the tests works on the test database, not the dev one.
if os.environ.get("TEST_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["TEST_WORKER_DATABASE_NAME"]

# Fault tests run workers whose broker keys live under their own prefix, so a short
# visibility timeout there never re-queues another worker's unacknowledged tasks.
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": os.environ.get("CELERY_BROKER_KEYPREFIX", "")}

# Every intake guard on, as in production, whatever the shell exports (VERIFICATION_REQUIRED,
# EVIDENCE_ENFORCE_COMPLETENESS). A test about the workflow alone opts out with the
# `intake_guards_off` fixture (tests/conftest.py).
VERIFICATION = {**VERIFICATION, "REQUIRED": True}
EVIDENCE = {**EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": True}
