"""API token authentication: django-rest-knox tokens (hashed at rest, expiring, revocable).

Accepts both `Authorization: Token <key>` and `Authorization: Bearer <key>`; the challenge
(`WWW-Authenticate`) names REST_KNOX["AUTH_HEADER_PREFIX"].
"""

import binascii
import functools
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from appeals.shared.db import prepared_values

PREFIXES = (b"token", b"bearer")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in PREFIXES:
            return None  # another scheme (or none): let the next authenticator decide
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: expected 'Token <key>' or 'Bearer <key>'."))
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, token: bytes):
        """knox's check, minus its sweep of the user's other tokens on every request (one query
        fewer per call); expired tokens are removed when met, and when the user gets a new one."""
        invalid = _("Invalid token.")
        try:
            key = token.decode("ascii")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(invalid)
        now = timezone.now()
        for auth_token in _tokens_by_key(key[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < now:
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=auth_token.user.get_username(), source="auth_token")
                break
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)


@functools.cache
def _token_columns() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The token's and its user's columns (attnames), and the values() names reading both."""
    token_fields = tuple(f.attname for f in AuthToken._meta.concrete_fields)
    user_fields = tuple(f.attname for f in get_user_model()._meta.concrete_fields)
    for model in (AuthToken, get_user_model()):
        # Rows are read raw (prepared_values): a column with a conversion would need the ORM's.
        converted = [f.name for f in model._meta.concrete_fields if hasattr(f, "from_db_value")]
        if converted:
            raise ImproperlyConfigured(f"TokenAuthentication reads {model.__name__} raw; {converted} convert on read")
    return token_fields, user_fields, token_fields + tuple(f"user__{name}" for name in user_fields)


def _tokens_by_key(token_key: str) -> list[AuthToken]:
    """The tokens with this key prefix, each with its user, in one query: a prepared statement
    compiled once per process (appeals.shared.db.prepared_values), as knox's
    `filter(token_key=...).select_related("user")` would read them."""
    token_fields, user_fields, names = _token_columns()
    rows = prepared_values(lambda: AuthToken.objects.filter(token_key=token_key).values(*names), names,
                           memo=("knox-token-by-key",), params=(token_key,))
    tokens = []
    for row in rows:
        auth_token = AuthToken.from_db("default", token_fields, [row[name] for name in token_fields])
        auth_token.user = get_user_model().from_db("default", user_fields, [row[f"user__{name}"] for name in user_fields])
        tokens.append(auth_token)
    return tokens


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "appeals.core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        # HTTP bearer: what generated OpenAPI clients send by default (`Token <key>` works too).
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A token from POST /api/v1/auth/token/, sent as `Token <key>` or `Bearer <key>`. "
                "Tokens expire (the `expiry` in the answer), and are revoked on logout, on a password "
                "change and through DELETE /api/v1/auth/tokens/{token_key}/."
            ),
        }
