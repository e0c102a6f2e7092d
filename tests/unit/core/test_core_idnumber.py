import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.idnumber import (
    InvalidIdNumber,
    check_digit,
    generate_id_numbers,
    is_valid_id_number,
    mask_id_number,
    validate_id_number,
)

# The worked example printed in GB 11643-1999: a woman born 1949-12-31 registered in Chaoyang, Beijing.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_validates_and_decodes():
    info = validate_id_number(STANDARD_EXAMPLE)
    assert info.region_code == "110105"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "F"
    assert info.sequence == "002"
    assert info.check_digit == "X"


def test_check_digit_of_the_standards_second_example():
    # GB 11643-1999 also shows 440524188001010014 (a man born 1880-01-01 in Chaoyang county, Guangdong).
    assert check_digit("44052418800101001") == "4"
    assert check_digit("11010519491231002") == "X"


def test_constructed_number_for_a_hangzhou_man():
    first17 = "33010619850317001"
    number = first17 + check_digit(first17)
    info = validate_id_number(number)
    assert (info.region_code, info.birth_date, info.sex) == ("330106", dt.date(1985, 3, 17), "M")


def test_input_is_normalised_before_checking():
    assert validate_id_number(" 11010519491231002x ").number == STANDARD_EXAMPLE
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert validate_id_number(full_width).number == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("text", "reason", "fragment"),
    [
        ("11010519491231002", "length", "got 17"),
        ("11010519491231002X1", "length", "got 19"),
        ("110105491231002", "length", "15-digit"),
        ("1101051949123100AX", "characters", "character 17"),
        ("11010519491231002Y", "characters", "character 18"),
        ("00010519491231002X", "region", "000105"),
        ("110105194902300021", "birth_date_impossible", "19490230"),
        ("110105194913010021", "birth_date_impossible", "19491301"),
        ("440524188001010014", "birth_date_impossible", "before 1900"),
    ],
)
def test_each_rule_has_its_own_reason(text, reason, fragment):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(text)
    assert caught.value.reason == reason
    assert fragment in str(caught.value)


def test_future_birth_date_is_refused():
    first17 = "33010620300101001"
    number = first17 + check_digit(first17)
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number, today=dt.date(2026, 1, 1))
    assert caught.value.reason == "birth_date_future"
    assert validate_id_number(number, today=dt.date(2030, 1, 1)).birth_date == dt.date(2030, 1, 1)


def test_wrong_check_digit_names_the_expected_one():
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number("110105194912310021")
    assert caught.value.reason == "check_digit"
    assert "require X" in str(caught.value)


@given(position=st.integers(0, 16), shift=st.integers(1, 9))
def test_any_single_digit_typo_is_caught(position, shift):
    digits = list(STANDARD_EXAMPLE)
    digits[position] = str((int(digits[position]) + shift) % 10)
    assert not is_valid_id_number("".join(digits))


def test_mask_shows_first_three_and_last_four():
    assert mask_id_number(STANDARD_EXAMPLE) == "110***********002X"
    assert mask_id_number("1234567") == "*******"


def test_generated_numbers_validate_and_match_inputs():
    rng = np.random.default_rng(11)
    n = 20_000
    regions = rng.choice(np.array([110105, 330106, 441900, 650102]), n)
    births = np.datetime64("2024-12-31") - rng.integers(0, 365 * 100, n)
    male = rng.random(n) < 0.5
    ids = generate_id_numbers(regions, births, male, rng)
    assert len(set(ids.tolist())) == n
    for number, region, birth, is_male in zip(ids.tolist(), regions, births.tolist(), male, strict=True):
        info = validate_id_number(number)
        assert info.region_code == str(region)
        assert info.birth_date == birth
        assert info.sex == ("M" if is_male else "F")


def test_generation_accepts_string_region_codes():
    rng = np.random.default_rng(0)
    ids = generate_id_numbers(["330106", "110105"], ["1990-01-01", "2000-02-29"], [True, False], rng)
    assert [validate_id_number(i).region_code for i in ids] == ["330106", "110105"]


def test_generation_keeps_numbers_distinct_in_a_crowded_group():
    rng = np.random.default_rng(1)
    ids = generate_id_numbers(
        np.full(499, 330106), np.full(499, np.datetime64("2000-01-01")), np.zeros(499, bool), rng
    )
    assert len(set(ids.tolist())) == 499
    assert all(is_valid_id_number(i) for i in ids)
    with pytest.raises(ValueError, match="499"):
        generate_id_numbers(
            np.full(500, 330106), np.full(500, np.datetime64("2000-01-01")), np.zeros(500, bool), rng
        )


def test_generation_rejects_bad_region_codes():
    with pytest.raises(ValueError, match="6 digits"):
        generate_id_numbers([33010], ["2000-01-01"], [True], np.random.default_rng(0))
