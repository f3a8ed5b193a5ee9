import pytest
from django.core.exceptions import ValidationError

from appeals.shared.validators import credit_code_check_char, mask_phone, validate_credit_code, validate_mobile

# Published codes of well-known companies (their check characters per GB 32100-2015).
REAL_CODES = ["91350100M000100Y43", "91110000802100433B", "914403001922038216"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_pass(code):
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y434", "credit_code_length"),
        ("91350100M000100Y4I", "credit_code_charset"),
        ("91350100M000100Y44", "credit_code_check"),
        ("91110000802100433C", "credit_code_check"),
    ],
)
def test_bad_credit_codes_fail_with_reason(code, reason):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == reason


def test_check_char_can_be_zero_and_letters():
    assert credit_code_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "15000000000", "+8613812345678", "138 1234 5678"])
def test_mobiles_ok(phone):
    validate_mobile(phone)


@pytest.mark.parametrize("phone", ["", "1381234567", "12812345678", "+1 650 253 0000", "010-12345678", "138 1234 5678 ext 2"])
def test_mobiles_bad(phone):
    with pytest.raises(ValidationError):
        validate_mobile(phone)


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
