"""Masking of personal ID numbers wherever they are shown (lists, pages, manifests, flags)."""

import re

# Mainland resident ID: 18 characters (17 digits + digit/X) or the old 15-digit form.
_ID18 = re.compile(r"(?<!\d)(\d{3})\d{11}(\d{3}[\dXx])(?![\dXx])")
_ID15 = re.compile(r"(?<!\d)(\d{3})\d{8}(\d{4})(?!\d)")


def mask_id_numbers(text: str) -> str:
    """'110101199003071234' -> '110***********1234' (the first 3 and the last 4 stay)."""
    if not text:
        return text
    text = _ID18.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return _ID15.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)


def mask_address(value: str) -> str:
    """'13812345678' -> '138****5678'; 'li.na@example.com' -> 'l***@example.com'."""
    value = str(value)
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    return value[:3] + "****" + value[-4:] if len(value) > 7 else "****"
