"""Developer settings: the embedded default (`make run`)."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# The console SMS and email backends print the code and the link (you need them to sign in).
CONSOLE_MESSAGES_IN_FULL = env.bool("CONSOLE_MESSAGES_IN_FULL", default=True)
