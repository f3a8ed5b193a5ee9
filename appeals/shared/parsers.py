"""Request bodies a client controls, parsed with limits: JSON nesting depth and NUL characters.

Python's json module recurses once per nesting level, so `[[[[...]]]]` ten thousand deep is a
RecursionError (a 500), not a parse error; and PostgreSQL refuses NUL (U+0000) in text, so a
string carrying one fails at the database. Both are the client's mistake: a 400 naming it.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

DEFAULT_MAX_DEPTH = 32


def max_json_depth() -> int:
    return getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when brackets nest deeper than `limit` (outside strings); a linear scan that never
    recurses, run before json.loads."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def nul_path(value) -> str | None:
    """Where a parsed JSON value carries a NUL character, as a dotted field path ("" for the
    top level); None if nowhere. Keys are not checked: a key only names a field, and one that no
    serializer knows is dropped unread. Iterative: no recursion on deep values."""
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, sub in item.items():
                stack.append((f"{path}.{key}" if path else str(key), sub))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), sub) for i, sub in enumerate(item))
    return None


class HostileJSON(ValueError):
    """Well-formed enough to parse, refused anyway: too deeply nested, or carrying NUL (then
    `field` is the dotted path of the offending value)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def loads_checked(text: str):
    """json.loads with the depth and NUL limits; raises HostileJSON (or ValueError for plain
    syntax errors) with a message for the client."""
    limit = max_json_depth()
    if json_depth_exceeds(text, limit):
        raise HostileJSON(_("The JSON body is nested deeper than %(limit)s levels.") % {"limit": limit})
    try:
        data = json.loads(text, parse_constant=json.strict_constant)
    except RecursionError:  # belt and braces: the scan above should have refused it
        raise HostileJSON(_("The JSON body is nested deeper than %(limit)s levels.") % {"limit": limit}) from None
    field = nul_path(data)
    if field is not None:
        raise HostileJSON(_("Text may not contain NUL (\\u0000) characters."), field=field or "non_field_errors")
    return data


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit (settings.JSON_MAX_DEPTH) and no NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError:
            raise ParseError(_("The JSON body is not valid %(encoding)s text.") % {"encoding": encoding}) from None
        try:
            return loads_checked(text)
        except HostileJSON as exc:
            if exc.field:
                raise ValidationError({exc.field: [str(exc)]}) from None
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
