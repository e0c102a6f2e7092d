"""Resident ID numbers (公民身份号码) under GB 11643-1999: validation, masking and bulk generation.

An 18-character number is: a 6-digit address code (GB/T 2260 county of household registration at
issue), an 8-digit birth date (YYYYMMDD), a 3-digit sequence whose last digit is odd for men and even
for women, and a check character computed over the first 17 digits with ISO 7064 MOD 11-2 (``X``
stands for 10).

``validate_id_number`` says precisely what is wrong; ``generate_id_numbers`` builds large batches of
valid, mutually distinct numbers with numpy for the demo region and the import benchmark.
"""

from __future__ import annotations

import datetime as dt
import operator
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from fangkong.core import clock
from fangkong.core.i18n import Message, as_message

Sex = Literal["M", "F"]
Reason = Literal[
    "length", "characters", "region", "birth_date_impossible", "birth_date_future", "check_digit"
]

ID_LENGTH = 18
# GB 11643-1999 section 8.2: weight of position i (1-based, left to right) is 2**(18 - i) mod 11.
CHECK_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_WEIGHTS = tuple(int(w) for w in CHECK_WEIGHTS)
# GB 11643-1999 section 8.2: check character for each value of (weighted sum mod 11).
CHECK_CHARACTERS = "10X98765432"
# Earliest birth year accepted: nobody born before 1900 holds a second-generation card (issued from 2004).
EARLIEST_BIRTH_YEAR = 1900
# Two-digit province-level prefixes of GB/T 2260, plus 81/82/83 used by residence permits for residents
# of Hong Kong, Macao and Taiwan (GB/T 2260 and the 2018 residence-permit rules of the Ministry of
# Public Security).
PROVINCE_PREFIXES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82", "83",
    }
)  # fmt: skip


class InvalidIdNumber(ValueError):
    """The text is not a valid resident ID number; ``reason`` names the rule it breaks."""

    def __init__(self, reason: Reason, message: str | Message) -> None:
        self.text = as_message(message)
        super().__init__(str(self.text))
        self.reason: Reason = reason


@dataclass(frozen=True)
class IdInfo:
    """What a valid ID number tells about its holder."""

    number: str
    region_code: str
    birth_date: dt.date
    sex: Sex
    sequence: str
    check_digit: str


def check_digit(first17: str) -> str:
    """Return the check character ('0'-'9' or 'X') for the first 17 digits of an ID number."""
    if len(first17) != ID_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    # Plain ints and map(): this runs once per row of a million-row import.
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return CHECK_CHARACTERS[total % 11]


def normalise_id_text(text: str) -> str:
    """Fold full-width digits and letters (common in Chinese input methods), trim and upper-case."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def validate_id_number(text: str, *, today: dt.date | None = None) -> IdInfo:
    """Validate an 18-character resident ID number and return what it encodes.

    Raises ``InvalidIdNumber`` with the first rule broken, checked in the order a person would fix them:
    length, characters, region, birth date (impossible, then future), check character.
    """
    # Plain ASCII input (the bulk case) needs no Unicode folding.
    number = text.strip().upper() if text.isascii() else normalise_id_text(text)
    if len(number) != ID_LENGTH:
        if len(number) == 15:
            raise InvalidIdNumber(
                "length",
                Message(
                    "must be {length} characters, got {got} "
                    "(a 15-digit first-generation number must be upgraded to 18 digits)",
                    length=ID_LENGTH,
                    got=len(number),
                ),
            )
        raise InvalidIdNumber(
            "length", Message("must be {length} characters, got {got}", length=ID_LENGTH, got=len(number))
        )
    body, last = number[:17], number[17]
    bad = (
        []
        if body.isdigit() and body.isascii()
        else [i + 1 for i, c in enumerate(body) if not ("0" <= c <= "9")]
    )
    if bad or not ("0" <= last <= "9" or last == "X"):
        where = bad[0] if bad else ID_LENGTH
        raise InvalidIdNumber(
            "characters",
            Message(
                "character {position} is “{character}”: "
                "the first 17 must be digits and the last a digit or X",
                position=where,
                character=number[where - 1],
            ),
        )
    if body[:2] not in PROVINCE_PREFIXES:
        raise InvalidIdNumber(
            "region", Message("region code {code} does not start with a province code", code=body[:6])
        )
    try:
        birth = dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "birth_date_impossible", Message("birth date {value} is not a calendar date", value=body[6:14])
        ) from None
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(
            "birth_date_impossible",
            Message("birth date {value} is before {year}", value=birth, year=EARLIEST_BIRTH_YEAR),
        )
    if birth > (today or clock.today()):
        raise InvalidIdNumber(
            "birth_date_future", Message("birth date {value} is in the future", value=birth)
        )
    expected = check_digit(body)
    if last != expected:
        raise InvalidIdNumber(
            "check_digit",
            Message(
                "check character is {given} but the first 17 digits require {expected}",
                given=last,
                expected=expected,
            ),
        )
    return IdInfo(
        number=number,
        region_code=body[:6],
        birth_date=birth,
        sex="M" if int(body[16]) % 2 == 1 else "F",
        sequence=body[14:17],
        check_digit=last,
    )


# Lookup tables for ``plainly_valid``: province prefixes by two-digit value, days per month, and the
# ASCII code of each check character.
_PREFIX_OK = np.zeros(100, dtype=bool)
_PREFIX_OK[[int(prefix) for prefix in PROVINCE_PREFIXES]] = True
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_CHECK_CODES = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)
_PLACEHOLDER = "0" * ID_LENGTH  # stands in for texts of another length; its prefix 00 never passes


@dataclass(frozen=True)
class IdBatch:
    """What ``plainly_valid`` found: per number whether it passes, its birth date as YYYYMMDD, its sex."""

    valid: npt.NDArray[np.bool_]
    yyyymmdd: npt.NDArray[np.int64]
    male: npt.NDArray[np.bool_]


def plainly_valid(numbers: list[str], today: dt.date) -> IdBatch:
    """Check many upper-case ASCII ID numbers against every rule of ``validate_id_number`` at once.

    A filter for bulk imports, not a second definition: a number it accepts is one that
    ``validate_id_number`` accepts unchanged, and anything it rejects (including full-width text that
    the full validator would fold) is left for ``validate_id_number`` to judge and to word.
    """
    n = len(numbers)
    fixed = [x if len(x) == ID_LENGTH and x.isascii() else _PLACEHOLDER for x in numbers]
    codes = np.frombuffer("".join(fixed).encode("ascii"), dtype=np.uint8).reshape(n, ID_LENGTH)
    digits = codes[:, :17].astype(np.int64) - ord("0")
    last = codes[:, 17]
    valid = ((digits >= 0) & (digits <= 9)).all(axis=1)
    valid &= ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X"))
    digits = np.clip(digits, 0, 9)
    valid &= _PREFIX_OK[digits[:, 0] * 10 + digits[:, 1]]
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    valid &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    yyyymmdd = year * 10000 + month * 100 + day
    valid &= (year >= EARLIEST_BIRTH_YEAR) & (yyyymmdd <= today.year * 10000 + today.month * 100 + today.day)
    valid &= _CHECK_CODES[(digits @ CHECK_WEIGHTS) % 11] == last
    return IdBatch(valid=valid, yyyymmdd=yyyymmdd, male=digits[:, 16] % 2 == 1)


def is_valid_id_number(text: str, *, today: dt.date | None = None) -> bool:
    try:
        validate_id_number(text, today=today)
    except InvalidIdNumber:
        return False
    return True


def mask_id_number(number: str) -> str:
    """Show the first 3 and last 4 characters only: ``110***********1234``."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# Sequence numbers per (region, birth date, sex): men use odd 001-999 (500 values), women even
# 002-998 (499 values; 000 is never issued).
_MALE_SEQUENCES = 500
_FEMALE_SEQUENCES = 499


@cache
def _digit_tables(width: int, start: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """For every value below 10**width: its zero-padded ASCII digits and their weighted sum at ``start``."""
    values = np.arange(10**width)
    digits = np.stack([values // 10 ** (width - 1 - i) % 10 for i in range(width)], axis=1)
    return (digits + ord("0")).astype(np.uint8), digits @ CHECK_WEIGHTS[start : start + width]


def generate_id_numbers(
    region_codes: npt.ArrayLike,
    birth_dates: npt.ArrayLike,
    is_male: npt.ArrayLike,
    rng: np.random.Generator,
) -> npt.NDArray[np.str_]:
    """Build valid, mutually distinct ID numbers, one per person.

    ``region_codes`` are 6-digit address codes (ints or strings), ``birth_dates`` anything numpy turns
    into ``datetime64[D]``, ``is_male`` booleans. Within each (region, birth date, sex) group people get
    distinct sequence numbers starting at a random offset, so a batch never holds the same number twice.
    """
    regions = np.asarray(region_codes)
    if regions.dtype.kind in "US":
        regions = regions.astype(np.int64)
    regions = regions.astype(np.int64, copy=False)
    dates = np.asarray(birth_dates, dtype="datetime64[D]")
    male = np.asarray(is_male, dtype=bool)
    n = regions.shape[0]
    if dates.shape[0] != n or male.shape[0] != n:
        raise ValueError("region_codes, birth_dates and is_male must have the same length")
    if n == 0:
        return np.empty(0, dtype="<U18")
    if regions.min() < 100000 or regions.max() > 999999:
        raise ValueError("region codes must have 6 digits")

    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    yyyymmdd = years * 10000 + months * 100 + days

    group_key = (regions * 100_000_000 + yyyymmdd) * 2 + male
    order = np.argsort(group_key, kind="stable")
    sorted_key = group_key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group_of_sorted = np.cumsum(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) - 1
    rank_sorted = np.arange(n) - starts[group_of_sorted]
    slots = np.where(male[order], _MALE_SEQUENCES, _FEMALE_SEQUENCES)
    if np.any(rank_sorted >= slots):
        raise ValueError(
            "more than 499 people share one region, birth date and sex: sequence numbers run out"
        )
    offset = rng.integers(0, _MALE_SEQUENCES, size=starts.shape[0])[group_of_sorted]
    slot_sorted = (offset + rank_sorted) % slots
    slot = np.empty(n, dtype=np.int64)
    slot[order] = slot_sorted
    sequence = np.where(male, 2 * slot + 1, 2 * slot + 2)

    # Each field is written from a table of its digits' ASCII codes and weighted digit sums, indexed by
    # the field's value: a handful of gathers instead of one division pass per character.
    codes = np.empty((n, ID_LENGTH), dtype=np.uint8)
    weighted = np.zeros(n, dtype=np.int64)
    fields = (
        (regions // 1000, 0, 3),
        (regions % 1000, 3, 3),
        (yyyymmdd // 10000, 6, 4),
        (yyyymmdd // 100 % 100, 10, 2),
        (yyyymmdd % 100, 12, 2),
        (sequence, 14, 3),
    )
    for values, start, width in fields:
        ascii_table, sum_table = _digit_tables(width, start)
        codes[:, start : start + width] = ascii_table[values]
        weighted += sum_table[values]
    codes[:, 17] = np.frombuffer(CHECK_CHARACTERS.encode(), dtype=np.uint8)[weighted % 11]
    return codes.view("S18").ravel().astype("<U18")
