import numpy as np
import phonenumbers
import pytest

from fangkong.core.phone import (
    InvalidPhone,
    generate_mobile_numbers,
    mask_phone,
    mobile_prefixes,
    normalise_mobile,
    parse_mobile,
)


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "8613800138000",
        "0086 13800138000",
        "１３８００１３８０００",
    ],
)
def test_common_spellings_normalise_to_one_number(text):
    number = parse_mobile(text)
    assert number.national == "13800138000"
    assert number.e164 == "+8613800138000"
    assert normalise_mobile(text) == "13800138000"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not_a_number"),
        ("call me", "not_a_number"),
        ("+1 650 253 0000", "not_chinese"),
        ("1380013800", "invalid"),
        ("12345678901", "invalid"),
        ("010 6234 5678", "not_mobile"),
    ],
)
def test_bad_numbers_say_why(text, reason):
    with pytest.raises(InvalidPhone) as caught:
        parse_mobile(text)
    assert caught.value.reason == reason


def test_wrong_length_message_counts_digits():
    with pytest.raises(InvalidPhone, match="11 digits"):
        parse_mobile("1380013800")


def test_mask_keeps_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+8613812341234") == "138****1234"


def test_prefixes_follow_phonenumbers_metadata():
    prefixes = set(mobile_prefixes())
    assert {130, 138, 139, 150, 186, 199} <= prefixes
    assert all(130 <= p <= 199 for p in prefixes)


def test_generated_numbers_are_valid_mobiles():
    numbers = generate_mobile_numbers(5_000, np.random.default_rng(3))
    for number in numbers.tolist():
        parsed = phonenumbers.parse(number, "CN")
        assert len(number) == 11
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    assert len({n[:3] for n in numbers.tolist()}) == len(mobile_prefixes())
