"""Writes each SMS as one JSON file named after its idempotency key (SMS_FILE_PATH)."""

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from django.conf import settings

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, file_path=None, **kwargs):
        super().__init__(**kwargs)
        self.path = Path(file_path or settings.SMS_FILE_PATH)
        self.path.mkdir(parents=True, exist_ok=True)

    def _file(self, message) -> Path:
        return self.path / (hashlib.sha256(message.out_id.encode()).hexdigest()[:32] + ".json")

    def send(self, message) -> str:
        target = self._file(message)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(message), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)  # atomic: a file is either complete or absent
        return target.stem

    def lookup(self, message) -> bool | None:
        return self._file(message).exists()
