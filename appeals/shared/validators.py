"""Validators for Chinese identifiers: the unified social credit code and mobile numbers."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 18 characters from this 31-symbol alphabet (no I, O, S, V, Z).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# The canonical (stored) form of a mobile number: its 11 national digits, "13912345678".
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# What people type is longer: "+86 139 1234 5678", "0086-139-1234-5678", "(139) 1234 5678".
MOBILE_INPUT_MAX_LENGTH = 32
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


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


def normalise_mobile(value: str) -> str:
    """A mainland China mobile number in any common form -> its canonical 11 digits.

    Accepted: "13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678",
    "86139 1234 5678", "0086 139 1234 5678", full-width digits; parsed by `phonenumbers`
    (region CN), so the number must be in an allocated mobile range. Raises ValidationError
    naming what a valid number looks like. Quotas and SMS caps count this canonical form."""
    text = (value or "").strip()
    if not text or len(text) > MOBILE_INPUT_MAX_LENGTH:
        raise _mobile_error()
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise _mobile_error() from None
    if (number.country_code != 86 or number.extension or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in _MOBILE_TYPES):
        raise _mobile_error()
    national = str(number.national_number)
    if not MOBILE_RE.match(national):
        raise _mobile_error()
    return national


def _mobile_error() -> ValidationError:
    return ValidationError(
        _("Enter a mainland China mobile number, for example 139 1234 5678 or +86 139 1234 5678."), code="mobile"
    )


def validate_mobile(value: str) -> None:
    """Valid if `normalise_mobile` accepts it (any common format; stored in canonical form)."""
    normalise_mobile(value)


def mask_phone(value: str) -> str:
    """138****5678: enough to recognise a number, not enough to use it."""
    if not value or len(value) < 7:
        return "****"
    return f"{value[:3]}****{value[-4:]}"
