"""JSON bodies are typed: a string field takes a JSON string, not a number coerced to one.

DRF's CharField turns 0 into "0"; the schema says `type: string`, so a client sending a number
has a bug the API should name (400, "Not a valid string.") rather than hide. Applies to every
CharField subclass (email, regex, slug, URL). Query and form values are strings anyway.
"""

from rest_framework import serializers

_coercing = serializers.CharField.to_internal_value


def _strict_to_internal_value(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _coercing(self, data)


def install() -> None:
    serializers.CharField.to_internal_value = _strict_to_internal_value
