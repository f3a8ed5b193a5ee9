"""API token authentication: django-rest-knox tokens (hashed at rest, expiring, revocable).

Accepts both `Authorization: Token <key>` and `Authorization: Bearer <key>`; the challenge
(`WWW-Authenticate`) names REST_KNOX["AUTH_HEADER_PREFIX"].
"""

import binascii
from hmac import compare_digest

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
        for auth_token in AuthToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user"):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < now:
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=auth_token.user.get_username(), source="auth_token")
                break
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)


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
