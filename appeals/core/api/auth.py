"""API token authentication: django-rest-knox tokens (hashed at rest, expiring, revocable).

Accepts both `Authorization: Token <key>` and `Authorization: Bearer <key>`; the challenge
(`WWW-Authenticate`) names REST_KNOX["AUTH_HEADER_PREFIX"].
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

PREFIXES = (b"token", b"bearer")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in PREFIXES:
            return None  # another scheme (or none): let the next authenticator decide
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected '<Token|Bearer> <key>'.")
        return self.authenticate_credentials(auth[1])


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "appeals.core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A token from POST /api/v1/auth/token/, sent as `Token <key>` or `Bearer <key>`. "
                "Tokens expire (the `expiry` in the answer), and are revoked on logout, on a password "
                "change and through DELETE /api/v1/auth/tokens/{token_key}/."
            ),
        }
