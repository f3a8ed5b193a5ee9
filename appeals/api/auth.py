"""API token authentication that takes the key after either `Token` or `Bearer`.

`Authorization: Token <key>` is what the API has always taken; `Authorization: Bearer <key>`
is what generated OpenAPI clients send by default (the schema declares an HTTP bearer scheme).
The challenge of a 401 stays `Token`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication, get_authorization_header

ACCEPTED_KEYWORDS = ("Token", "Bearer")


class BearerOrTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        scheme = (get_authorization_header(request).split() or [b""])[0].decode("latin-1")
        for keyword in ACCEPTED_KEYWORDS:
            if scheme.lower() == keyword.lower():
                # DRF makes one authenticator per request, so this is local to the request.
                self.keyword = keyword
                break
        return super().authenticate(request)

    def authenticate_header(self, request):
        return ACCEPTED_KEYWORDS[0]


class BearerOrTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerOrTokenAuthentication
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from POST /api/v1/auth/token/, sent as `Authorization: Bearer <token>` "
                           "(`Authorization: Token <token>` is accepted too).",
        }
