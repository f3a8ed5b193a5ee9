"""Writes each SMS to stdout (the default for local development)."""

import sys
import threading
import uuid

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout

    def send(self, message) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self.stream.write(f"SMS to {message.phone} [{message.template}] ({message.out_id}): {message.text}\n")
            self.stream.flush()
        return provider_id
