"""Secrets at rest (WeCom corp secrets, webhook secrets, SMS provider keys).

Encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` package) under the
keys in settings.FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a key
is rotated by putting a new one first, running `manage.py rotate_secrets` (re-encrypts every
`EncryptedTextField` value under the new key) and then dropping the old one.

In production the keys come from the environment (FIELD_ENCRYPTION_KEYS, comma-separated,
each `Fernet.generate_key()`); a missing key is a deploy error (appeals.E601). Locally and in
tests one key is derived from SECRET_KEY so `make run` needs nothing set.

A decrypted value is a `Secret`: a str whose repr() is masked, so it does not end up in a log
line or a traceback's locals by accident. It is never serialised back by the API: views show
only whether a secret is set (and `mask()`'s last four characters at most).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.db import models

_cache: dict[tuple, MultiFernet] = {}


class SecretKeyError(Exception):
    """The stored value cannot be decrypted with any configured key."""


class Secret(str):
    """A decrypted secret: usable as a str, masked in repr()."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


def derived_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY (local and test settings only)."""
    digest = hashlib.sha256(b"appeal-desk field encryption\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in (getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []) if k and k.strip())
    return keys or (derived_key(settings.SECRET_KEY),)


def _fernet() -> MultiFernet:
    keys = configured_keys()
    f = _cache.get(keys)
    if f is None:
        f = _cache[keys] = MultiFernet([Fernet(k.encode()) for k in keys])
    return f


def encrypt(plain: str) -> str:
    return _fernet().encrypt(str(plain).encode()).decode()


def decrypt(token: str) -> Secret:
    try:
        return Secret(_fernet().decrypt(token.encode()).decode())
    except InvalidToken as exc:
        raise SecretKeyError("a stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS") from exc


def is_current(token: str) -> bool:
    """True when the token was encrypted under the first (current) key."""
    try:
        Fernet(configured_keys()[0].encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same secret re-encrypted under the current key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError("a stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS") from exc


def mask(value: str) -> str:
    """What a page may show of a secret: its length hidden, at most its last four characters."""
    value = str(value or "")
    return "••••" + value[-4:] if len(value) >= 12 else ("••••" if value else "")


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads give a `Secret`, "" stays "" (not set)."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def to_python(self, value):
        if value in (None, "") or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)


def encrypted_fields():
    """(model, field name) for every EncryptedTextField of an installed model."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field.name


def check_keys(app_configs=None, **kwargs):
    """Production needs its own keys, each a valid Fernet key."""
    errors = []
    raw = [k for k in (getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []) if k and k.strip()]
    if getattr(settings, "PRODUCTION", False) and not raw:
        errors.append(checks.Error(
            "FIELD_ENCRYPTION_KEYS is not set: secrets at rest would be encrypted with a key derived from SECRET_KEY.",
            hint="Set FIELD_ENCRYPTION_KEYS to one or more keys from "
                 "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.",
            id="appeals.E601"))
    for key in raw:
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError):
            errors.append(checks.Error("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                                       "(32 url-safe base64-encoded bytes).", id="appeals.E602"))
    return errors
