"""Writes each SMS to stdout (the default for local development).

The text (with its code) is written only when settings.CONSOLE_MESSAGES_IN_FULL is on (local
settings); otherwise the masked number, the template and the length.
"""

import sys
import threading
import uuid

from django.conf import settings

from appeals.shared.masking import mask_address

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout

    def send(self, message) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        if settings.CONSOLE_MESSAGES_IN_FULL:
            line = f"SMS to {message.phone} [{message.template}] ({message.out_id}): {message.text}\n"
        else:
            line = (f"SMS to {mask_address(message.phone)} [{message.template}] ({message.out_id}): "
                    f"{len(message.text)} characters; text not shown: CONSOLE_MESSAGES_IN_FULL is off\n")
        with self._lock:
            self.stream.write(line)
            self.stream.flush()
        return provider_id
