"""Chinese mobile numbers: validation and normalisation with ``phonenumbers``, masking, bulk generation.

The platform stores a mobile number in its 11-digit national form (``13800138000``), which is what
field staff type and what SMS gateways in China accept; ``parse_mobile`` also gives the E.164 form
(``+8613800138000``) for systems that want it. Fixed lines are refused: the registry needs a number
that can receive text messages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberType

from fangkong.core.i18n import Message, as_message

Reason = Literal["not_a_number", "not_chinese", "invalid", "not_mobile"]

REGION = "CN"
COUNTRY_CODE = 86
NATIONAL_LENGTH = 11
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhone(ValueError):
    """The text is not a usable Chinese mobile number; ``reason`` says why."""

    def __init__(self, reason: Reason, message: str | Message) -> None:
        self.text = as_message(message)
        super().__init__(str(self.text))
        self.reason: Reason = reason


@dataclass(frozen=True)
class MobileNumber:
    e164: str
    national: str


def parse_mobile(text: str) -> MobileNumber:
    """Parse a mainland Chinese mobile number written in any common way.

    Accepts ``13800138000``, ``138 0013 8000``, ``+86 138-0013-8000``, ``8613800138000`` and full-width
    digits. Raises ``InvalidPhone`` naming the problem.
    """
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not cleaned:
        raise InvalidPhone("not_a_number", "is empty")
    # A bare 86 followed by a full mobile number is how many spreadsheets store the country code.
    if cleaned.startswith("86") and len(cleaned) == NATIONAL_LENGTH + 2:
        cleaned = "+" + cleaned
    elif cleaned.startswith("0086"):
        cleaned = "+" + cleaned[2:]
    try:
        parsed = phonenumbers.parse(cleaned, REGION)
    except NumberParseException:
        raise InvalidPhone("not_a_number", Message("“{value}” is not a phone number", value=text)) from None
    if parsed.country_code != COUNTRY_CODE:
        raise InvalidPhone(
            "not_chinese",
            Message("“{value}” has country code +{code}, not +86", value=text, code=parsed.country_code),
        )
    national = phonenumbers.national_significant_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        if len(national) != NATIONAL_LENGTH and national.startswith("1"):
            raise InvalidPhone(
                "invalid",
                Message(
                    "a mobile number has {length} digits, “{value}” has {got}",
                    length=NATIONAL_LENGTH,
                    value=text,
                    got=len(national),
                ),
            )
        raise InvalidPhone("invalid", Message("“{value}” is not a valid Chinese phone number", value=text))
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise InvalidPhone(
            "not_mobile", Message("“{value}” is a fixed line, not a mobile number", value=text)
        )
    return MobileNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        national=national,
    )


def normalise_mobile(text: str) -> str:
    """Return the 11-digit national form of a valid mobile number (raises ``InvalidPhone``)."""
    return parse_mobile(text).national


def mask_phone(number: str) -> str:
    """Show the first 3 and last 4 digits of the national number: ``138****1234``."""
    if len(number) == NATIONAL_LENGTH and number.isascii() and number.isdigit():
        return number[:3] + "****" + number[-4:]
    digits = "".join(c for c in unicodedata.normalize("NFKC", number) if c.isdigit())
    if len(digits) == NATIONAL_LENGTH + 2 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


@cache
def mobile_prefixes() -> tuple[int, ...]:
    """Three-digit prefixes (130-199) under which every 11-digit number is a valid mobile number.

    Read from phonenumbers' own metadata for CN, so the generator follows the library that validates:
    a prefix counts only if all 100 continuations of its next two digits match the mobile pattern.
    """
    metadata = PhoneMetadata.metadata_for_region(REGION)
    if metadata is None or metadata.mobile is None or metadata.mobile.national_number_pattern is None:
        raise RuntimeError("phonenumbers ships no mobile pattern for CN")
    pattern = re.compile(metadata.mobile.national_number_pattern)
    tail = "123456"
    return tuple(
        prefix
        for prefix in range(100, 200)
        if all(pattern.fullmatch(f"{prefix}{middle:02d}{tail}") for middle in range(100))
    )


def generate_mobile_number_ints(n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Draw ``n`` valid mobile numbers as integers, prefixes uniform over ``mobile_prefixes()``."""
    prefixes = np.array(mobile_prefixes(), dtype=np.int64)
    subscriber = rng.integers(0, 100_000_000, size=n)
    return prefixes[rng.integers(0, prefixes.shape[0], size=n)] * 100_000_000 + subscriber


def generate_mobile_numbers(n: int, rng: np.random.Generator) -> npt.NDArray[np.str_]:
    """Draw ``n`` valid 11-digit mobile numbers, prefixes uniform over ``mobile_prefixes()``."""
    return generate_mobile_number_ints(n, rng).astype("<U11")


def _mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(REGION)
    description = metadata.mobile if metadata is not None else None
    pattern = description.national_number_pattern if description is not None else None
    if not pattern:
        raise RuntimeError("phonenumbers ships no mobile pattern for CN")
    return re.compile(str(pattern))


# Bulk imports were dominated by phonenumbers.parse (~100 us a number). Plain 11-digit input, the common
# case, is checked against the same library metadata's mobile pattern directly.
_MOBILE_PATTERN = _mobile_pattern()


def is_plain_mobile(text: str) -> bool:
    """Already an 11-digit national mobile number that the full parse would return unchanged."""
    return (
        len(text) == NATIONAL_LENGTH
        and text.isascii()
        and text.isdigit()
        and _MOBILE_PATTERN.fullmatch(text) is not None
    )


def normalise_mobile_fast(text: str) -> str:
    """``normalise_mobile`` with a fast path for plain 11-digit input; anything else takes the full parse."""
    return text if is_plain_mobile(text) else normalise_mobile(text)
