"""Developer settings: the embedded default (`make run`)."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# Nothing leaves the machine: SMS and email are kept in the local inbox (/dev/inbox/).
DEV_INBOX = env.bool("DEV_INBOX", default=True)
if DEV_INBOX:
    SMS_BACKEND = env("SMS_BACKEND", default="appeals.notifications.dev_inbox.SmsBackend")
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="appeals.notifications.dev_inbox.EmailBackend")
