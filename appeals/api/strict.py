"""JSON bodies are typed: a string field takes a JSON string, not a number coerced to one, and
a boolean field takes true or false.

DRF's CharField turns 0 into "0", and its BooleanField takes 0, 1, "yes" or "off"; the schema
says `type: string` / `type: boolean`, so a client sending anything else has a bug the API
should name (400, "Not a valid string." / "Must be a valid boolean.") rather than hide. Applies
to every CharField subclass (email, regex, slug, URL) and every BooleanField, model serializers'
included. Query and form values are strings anyway: a boolean read from a form or a query
string (a QueryDict) is still DRF's ("true", "on", "1"...).
"""

from django.http import QueryDict
from rest_framework import serializers

_coercing = serializers.CharField.to_internal_value
_coercing_boolean = serializers.BooleanField.to_internal_value


def _strict_to_internal_value(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _coercing(self, data)


def _strict_boolean(self, data):
    if not isinstance(data, bool) and not isinstance(getattr(self.root, "initial_data", None), QueryDict):
        self.fail("invalid", input=data)
    return _coercing_boolean(self, data)


def install() -> None:
    serializers.CharField.to_internal_value = _strict_to_internal_value
    serializers.BooleanField.to_internal_value = _strict_boolean
