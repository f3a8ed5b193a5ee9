"""Validators for Chinese identifiers: the unified social credit code and mobile numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 18 characters from this 31-symbol alphabet (no I, O, S, V, Z).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code, per GB 32100-2015."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(_("A unified social credit code has exactly 18 characters."), code="credit_code_length")
    bad = [c for c in code if c not in CREDIT_CODE_ALPHABET]
    if bad:
        raise ValidationError(
            _("Character %(char)s is not allowed in a unified social credit code."),
            code="credit_code_charset",
            params={"char": bad[0]},
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_("The check character of this unified social credit code is wrong."), code="credit_code_check")


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(value or ""):
        raise ValidationError(_("Enter a mainland China mobile number: 11 digits starting with 1."), code="mobile")


def mask_phone(value: str) -> str:
    """138****5678: enough to recognise a number, not enough to use it."""
    if not value or len(value) < 7:
        return "****"
    return f"{value[:3]}****{value[-4:]}"
