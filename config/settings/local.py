"""Developer settings: the embedded default (`make run`)."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# Nothing leaves the machine: SMS and email are kept in the local inbox (/dev/inbox/).
DEV_INBOX = env.bool("DEV_INBOX", default=True)
if DEV_INBOX:
    SMS_BACKEND = env("SMS_BACKEND", default="appeals.notifications.dev_inbox.SmsBackend")
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="appeals.notifications.dev_inbox.EmailBackend")
# The console SMS and email backends print the code and the link (you need them to sign in).
CONSOLE_MESSAGES_IN_FULL = env.bool("CONSOLE_MESSAGES_IN_FULL", default=True)
# Plain log lines in a developer's terminal; LOG_FORMAT=json for the production format.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {**LOGGING, "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": LOG_FORMAT}}}  # noqa: F405

# Webhook receivers on this machine over plain http (a receiver under development).
WEBHOOKS = {**WEBHOOKS, "ALLOW_LOOPBACK_HTTP": env.bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=True)}  # noqa: F405
