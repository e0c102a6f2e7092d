"""Pure validation and shaping of one person's record (no database), shared by single entry and imports.

``shape_person`` is the one definition of a valid row and words every error; ``people_batch`` shapes
whole chunks of plainly valid rows faster and hands it every other row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from fangkong.core.crypto import PersonalData, Vault, mask_address, mask_name
from fangkong.core.errors import RowError
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, mask_id_number, validate_id_number
from fangkong.core.phone import InvalidPhone, mask_phone, normalise_mobile_fast

FIELDS = ("id_number", "name", "phone", "sex", "birth_date", "community_code", "address")
REQUIRED = ("id_number", "name", "community_code", "address")
# Header aliases so that the Chinese template imports as well as the English one.
HEADER_ALIASES = {
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "姓名": "name",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "性别": "sex",
    "出生日期": "birth_date",
    "社区编码": "community_code",
    "住址": "address",
    "现住址": "address",
}
SEX_WORDS = {"M": "M", "F": "F", "男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}
NAME_PATTERN = re.compile(r"^[\u3400-\u9fffA-Za-z·•.\-' ]{1,50}$")
MAX_ADDRESS = 200


@dataclass(frozen=True)
class Keys:
    encryption_key: str
    hash_key: str


# (jurisdiction_id, jpath, household_address_hash, household_cipher, household_masked,
#  pii, id_hash, phone_hash, name_hash, id_masked, phone_masked, name_masked, sex, birth_date)
ShapedPerson = tuple[
    int, str, str, bytes, str, bytes, str, str | None, str, str, str | None, str, str, dt.date
]


def canonical_header(name: str) -> str:
    cleaned = name.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(cleaned, cleaned.lower())


# The sex an ID number encodes, as a word for messages (the catalog translates it).
_SEX_WORD = {"M": "male", "F": "female"}


def shape_person(
    row_number: int,
    raw: Mapping[str, str],
    vault: Vault,
    communities: Mapping[str, tuple[int, str]],
    errors: list[RowError],
) -> ShapedPerson | None:
    """Validate one row; append every problem to ``errors`` and return None if there is any."""
    before = len(errors)

    def get(key: str) -> str:
        return (raw.get(key) or "").strip()

    for key in REQUIRED:
        if not get(key):
            errors.append(RowError(row_number, key, "is required"))
    if len(errors) > before:
        return None
    id_number = get("id_number").upper()
    birth: dt.date | None = None
    sex = ""
    try:
        info = validate_id_number(id_number)
        # Stored in its folded form (full-width digits become ASCII) so that hashes match.
        id_number, birth, sex = info.number, info.birth_date, info.sex
    except InvalidIdNumber as exc:
        errors.append(RowError(row_number, "id_number", exc.text))
    name = get("name")
    if not NAME_PATTERN.match(name):
        errors.append(
            RowError(row_number, "name", Message("“{value}” is not a plausible name", value=name[:20]))
        )
    phone_raw = get("phone")
    phone = ""
    if phone_raw:
        try:
            phone = normalise_mobile_fast(phone_raw)
        except InvalidPhone as exc:
            errors.append(RowError(row_number, "phone", exc.text))
    given_sex = get("sex")
    if given_sex and sex and SEX_WORDS.get(given_sex.upper()) != sex:
        errors.append(
            RowError(
                row_number,
                "sex",
                Message(
                    "“{value}” contradicts the ID number ({sex})",
                    value=given_sex,
                    sex=Message(_SEX_WORD[sex]),
                ),
            )
        )
    given_birth = get("birth_date")
    if given_birth and birth is not None and given_birth.replace("/", "-") != birth.isoformat():
        errors.append(
            RowError(
                row_number,
                "birth_date",
                Message("“{value}” contradicts the ID number ({birth})", value=given_birth, birth=birth),
            )
        )
    community_code = get("community_code")
    place = communities.get(community_code)
    if place is None:
        errors.append(
            RowError(
                row_number,
                "community_code",
                Message("{code} is not a community in your jurisdiction", code=community_code),
            )
        )
    address = get("address")
    if len(address) > MAX_ADDRESS:
        errors.append(
            RowError(row_number, "address", Message("longer than {limit} characters", limit=MAX_ADDRESS))
        )
    if len(errors) > before or birth is None or place is None:
        return None
    jurisdiction_id, jpath = place
    household_key = community_code + "|" + address
    # The ID number is upper-case and the phone digits-only by now: hash them without re-normalising.
    return (
        jurisdiction_id,
        jpath,
        vault.keyed_hash(household_key),
        vault.encrypt_text(address),
        mask_address(address),
        vault.encrypt_person(PersonalData(id_number, name, phone, address)),
        vault.keyed_hash_normalised(id_number),
        vault.keyed_hash_normalised(phone) if phone else None,
        vault.keyed_hash(name),
        mask_id_number(id_number),
        mask_phone(phone) if phone else None,
        mask_name(name),
        sex,
        birth,
    )
