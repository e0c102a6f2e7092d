"""Shaping a whole chunk of CSV rows at once: the bulk path of ``people_rules``.

A million-row import spends most of its time turning rows into stored values, so a chunk is handled
column by column: its ID numbers are checked in one numpy pass, hashes and ciphertexts come from the
vault's batch helpers, and for PostgreSQL the person rows leave already encoded for binary COPY, with
the household id left for the main process to fill in (only it numbers households across chunks).

Only rows that are plainly valid take the fast path. Every other row (an error, full-width digits, a
phone written with +86) goes through ``shape_person``, which stays the one definition of a valid row
and the one place that words the errors; the two paths give the same stored values for the same row.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fangkong.core import pgcopy
from fangkong.core.crypto import (
    PersonalData,
    Vault,
    mask_address,
    mask_name,
    normalise_for_hash,
    personal_text,
)
from fangkong.core.errors import RowError
from fangkong.core.idnumber import mask_id_number, plainly_valid
from fangkong.core.people_rules import MAX_ADDRESS, NAME_PATTERN, SEX_WORDS, Keys, shape_person
from fangkong.core.phone import is_plain_mobile, mask_phone

# The people columns in the order both write paths use; the household id comes first so that the
# main process finds it at a fixed place in every binary row.
PEOPLE_COLUMNS = (
    "household_id",
    "jurisdiction_id",
    "jpath",
    "pii",
    "id_hash",
    "phone_hash",
    "name_hash",
    "id_masked",
    "phone_masked",
    "name_masked",
    "sex",
    "birth_date",
    "created_at",
)
HOUSEHOLD_COLUMNS = ("id", "jurisdiction_id", "jpath", "address_hash", "address_cipher", "address_masked")
# Where the household id's value sits in each binary person row: after the field count and its length.
HOUSEHOLD_ID_AT = 2 + pgcopy.INT4_VALUE_AT
_ROW_START = pgcopy.field_count(len(PEOPLE_COLUMNS)) + pgcopy.int4(0)

# (jurisdiction_id, jpath, address_hash, address_cipher, address_masked): a household of the chunk.
HouseholdRow = tuple[int, str, str, bytes, str]
# A person's stored values from jurisdiction_id to birth_date (PEOPLE_COLUMNS[1:-1]).
PersonValues = tuple[int, str, bytes, str, str | None, str, str, str | None, str, str, dt.date]


@dataclass
class ShapedChunk:
    """The people of one chunk, ready to store, and the errors of the rest."""

    records: int
    rows: list[int] = field(default_factory=list)  # each shaped person's offset in the chunk
    id_hashes: list[str] = field(default_factory=list)
    households: list[HouseholdRow] = field(default_factory=list)  # distinct within the chunk
    household_of: list[int] = field(default_factory=list)  # per person, an index into households
    people: list[tuple[object, ...]] = field(default_factory=list)  # columns after household_id
    copy_rows: bytes = b""  # the same people as binary COPY rows (household id 0)
    copy_offsets: list[int] = field(default_factory=list)  # where each binary row starts
    errors: list[RowError] = field(default_factory=list)  # rows numbered from 0 within the chunk


@dataclass
class _Person:
    """One person's stored values, whichever path shaped them."""

    row: int
    household_key: str
    household: HouseholdRow
    values: PersonValues


_DATES: dict[int, dt.date] = {}


def _birth_date(yyyymmdd: int) -> dt.date:
    found = _DATES.get(yyyymmdd)
    if found is None:
        found = _DATES[yyyymmdd] = dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    return found


def shape_rows(
    rows: Sequence[Sequence[str]],
    header: Sequence[str],
    keys: Keys,
    communities: Mapping[str, tuple[int, str]],
    created_at: dt.datetime,
    *,
    binary_copy: bool,
) -> ShapedChunk:
    """Validate and shape a chunk of CSV rows; a top-level function so that worker processes run it."""
    vault = Vault(keys.encryption_key, keys.hash_key)
    chunk = ShapedChunk(records=len(rows))
    width = len(header)
    offsets = [i for i, values in enumerate(rows) if len(values) == width]
    if len(offsets) < len(rows):
        chunk.errors.extend(
            RowError(i, "*", f"has {len(values)} columns, the header has {width}")
            for i, values in enumerate(rows)
            if len(values) != width
        )
    table = [rows[i] for i in offsets]
    people = _fast_people(table, offsets, header, vault, communities)
    slow = [k for k, person in enumerate(people) if person is None]
    for k in slow:
        raw = dict(zip(header, table[k], strict=True))
        shaped = shape_person(offsets[k], raw, vault, communities, chunk.errors)
        if shaped is not None:
            key = (raw.get("community_code") or "").strip() + "|" + (raw.get("address") or "").strip()
            people[k] = _Person(offsets[k], key, shaped[:5], shaped[:2] + shaped[5:])
    _collect(chunk, [p for p in people if p is not None], created_at, binary_copy)
    return chunk


def _fast_people(
    table: list[Sequence[str]],
    offsets: list[int],
    header: Sequence[str],
    vault: Vault,
    communities: Mapping[str, tuple[int, str]],
) -> list[_Person | None]:
    """Shape the plainly valid rows column by column; None marks a row for ``shape_person``."""
    n = len(table)
    if n == 0:
        return []
    columns = dict(zip(header, zip(*table, strict=True), strict=False))

    def column(name: str) -> list[str]:
        values = columns.get(name)
        return list(map(str.strip, values)) if values is not None else [""] * n

    ids = [x.upper() for x in column("id_number")]
    names, phones, codes, addresses = (
        column("name"),
        column("phone"),
        column("community_code"),
        column("address"),
    )
    given_sexes, given_births = column("sex"), column("birth_date")
    batch = plainly_valid(ids, dt.date.today())
    births = [
        _birth_date(v) if ok else None
        for v, ok in zip(batch.yyyymmdd.tolist(), batch.valid.tolist(), strict=True)
    ]
    sexes = ["M" if male else "F" for male in batch.male.tolist()]
    places = [communities.get(code) for code in codes]
    plain = [
        birth is not None
        and place is not None
        and 0 < len(address) <= MAX_ADDRESS
        and NAME_PATTERN.match(name) is not None
        and (not phone or is_plain_mobile(phone))
        and (not given_sex or SEX_WORDS.get(given_sex.upper()) == sex)
        and (not given_birth or given_birth.replace("/", "-") == birth.isoformat())
        for birth, place, address, name, phone, sex, given_sex, given_birth in zip(
            births, places, addresses, names, phones, sexes, given_sexes, given_births, strict=True
        )
    ]
    fast = [k for k, ok in enumerate(plain) if ok]
    people: list[_Person | None] = [None] * n
    if not fast:
        return people
    id_f = [ids[k] for k in fast]
    name_f = [names[k] for k in fast]
    phone_f = [phones[k] for k in fast]
    address_f = [addresses[k] for k in fast]
    # Plain rows have both by construction; the filters only narrow the types.
    place_f = [place for k in fast if (place := places[k]) is not None]
    birth_f = [birth for k in fast if (birth := births[k]) is not None]
    keys = [codes[k] + "|" + addresses[k] for k in fast]
    # Members of a household share its hash and ciphertext: computed once per household in the chunk.
    first_of: dict[str, int] = {}
    for j, key in enumerate(keys):
        first_of.setdefault(key, j)
    firsts = list(first_of.values())
    hashes = vault.keyed_hashes_normalised(normalise_for_hash(key) for key in first_of)
    ciphers = vault.encrypt_texts([address_f[j] for j in firsts])
    households: dict[str, HouseholdRow] = {
        key: (*place_f[j], hashes[i], ciphers[i], mask_address(address_f[j]))
        for i, (key, j) in enumerate(first_of.items())
    }
    pii = vault.encrypt_texts(
        [
            personal_text(PersonalData(*fields))
            for fields in zip(id_f, name_f, phone_f, address_f, strict=True)
        ]
    )
    id_hashes = vault.keyed_hashes_normalised(id_f)
    name_hashes = vault.keyed_hashes_normalised(normalise_for_hash(name) for name in name_f)
    with_phone = [phone for phone in phone_f if phone]
    phone_hashes = iter(vault.keyed_hashes_normalised(with_phone))
    for j, k in enumerate(fast):
        phone = phone_f[j]
        people[k] = _Person(
            offsets[k],
            keys[j],
            households[keys[j]],
            (
                *place_f[j],
                pii[j],
                id_hashes[j],
                next(phone_hashes) if phone else None,
                name_hashes[j],
                mask_id_number(id_f[j]),
                mask_phone(phone) if phone else None,
                mask_name(name_f[j]),
                sexes[k],
                birth_f[j],
            ),
        )
    return people


def _collect(chunk: ShapedChunk, people: list[_Person], created_at: dt.datetime, binary_copy: bool) -> None:
    """Number the chunk's households and lay the people out for the backend's write path."""
    local: dict[str, int] = {}
    for person in people:
        index = local.setdefault(person.household_key, len(local))
        if index == len(chunk.households):
            chunk.households.append(person.household)
        chunk.household_of.append(index)
    chunk.rows = [p.row for p in people]
    chunk.id_hashes = [p.values[3] for p in people]
    if not binary_copy:
        chunk.people = [(*p.values, created_at) for p in people]
        return
    created = pgcopy.timestamptz(created_at)
    encoded = [_binary_row(p.values, created) for p in people]
    chunk.copy_offsets = list(itertools.accumulate((len(row) for row in encoded[:-1]), initial=0))
    chunk.copy_rows = b"".join(encoded)


# Encoded (jurisdiction_id, jpath) pairs and birth dates: a region has few of either.
_PLACES: dict[tuple[int, str], bytes] = {}
_ENCODED_DATES: dict[dt.date, bytes] = {}


def _binary_row(values: PersonValues, created: bytes) -> bytes:
    (
        jurisdiction_id,
        jpath,
        pii,
        id_hash,
        phone_hash,
        name_hash,
        id_masked,
        phone_masked,
        name_masked,
        sex,
        birth,
    ) = values
    place = _PLACES.get((jurisdiction_id, jpath))
    if place is None:
        place = _PLACES[(jurisdiction_id, jpath)] = pgcopy.int4(jurisdiction_id) + pgcopy.text(jpath)
    born = _ENCODED_DATES.get(birth)
    if born is None:
        born = _ENCODED_DATES[birth] = pgcopy.date(birth)
    text = pgcopy.text
    return b"".join(
        (
            _ROW_START,
            place,
            pgcopy.blob(pii),
            text(id_hash),
            text(phone_hash),
            text(name_hash),
            text(id_masked),
            text(phone_masked),
            text(name_masked),
            text(sex),
            born,
            created,
        )
    )
