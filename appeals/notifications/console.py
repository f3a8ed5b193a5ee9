"""Django's console email backend, minus the secrets outside local development.

With settings.CONSOLE_MESSAGES_IN_FULL (on in config.settings.local) each email is printed
whole, link and all. Otherwise only the recipients (masked), the subject and the size are
printed: the console is the log stream of a web or worker process, and a verification link
there is a way into an appeal.
"""

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

from appeals.shared.masking import mask_address


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        if settings.CONSOLE_MESSAGES_IN_FULL:
            return super().write_message(message)
        size = len(message.body or "") + sum(len(content) for content, _mime in getattr(message, "alternatives", []))
        recipients = ", ".join(mask_address(r) for r in message.recipients())
        self.stream.write(f"Email to {recipients}: {message.subject!r} ({size} characters; text not shown: "
                          "CONSOLE_MESSAGES_IN_FULL is off)\n")
