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
from typing import Any

from fangkong.core import clock, pgcopy
from fangkong.core.crypto import Vault, mask_address, mask_name, normalise_for_hash, personal_texts
from fangkong.core.db import sqlite_instant
from fangkong.core.errors import RowError
from fangkong.core.i18n import Message
from fangkong.core.idnumber import plainly_valid
from fangkong.core.people_rules import MAX_ADDRESS, NAME_PATTERN, SEX_WORDS, Keys, shape_person
from fangkong.core.phone import is_plain_mobile

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
class _People:
    """Shaped people as columns, in row order; ``values`` holds one list per column of PersonValues."""

    rows: list[int] = field(default_factory=list)
    household_keys: list[str] = field(default_factory=list)
    households: dict[str, HouseholdRow] = field(default_factory=dict)
    values: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(11)])

    def add(self, row: int, key: str, household: HouseholdRow, values: PersonValues) -> None:
        self.rows.append(row)
        self.household_keys.append(key)
        self.households.setdefault(key, household)
        for column, value in zip(self.values, values, strict=True):
            column.append(value)


# Birth dates by YYYYMMDD with their ISO text: a region has a few tens of thousands of them.
_DATES: dict[int, tuple[dt.date, str]] = {}


def _birth_date(yyyymmdd: int) -> tuple[dt.date, str]:
    found = _DATES.get(yyyymmdd)
    if found is None:
        born = dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
        found = _DATES[yyyymmdd] = (born, born.isoformat())
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
            RowError(
                i, "*", Message("has {got} columns, the header has {width}", got=len(values), width=width)
            )
            for i, values in enumerate(rows)
            if len(values) != width
        )
    table = [rows[i] for i in offsets]
    fast, left = _fast_people(table, offsets, header, vault, communities)
    slow = _People()
    for k in left:
        raw = dict(zip(header, table[k], strict=True))
        shaped = shape_person(offsets[k], raw, vault, communities, chunk.errors)
        if shaped is not None:
            key = (raw.get("community_code") or "").strip() + "|" + (raw.get("address") or "").strip()
            slow.add(offsets[k], key, shaped[:5], shaped[:2] + shaped[5:])
    _collect(chunk, _merge(fast, slow), created_at, binary_copy)
    return chunk


def _merge(fast: _People, slow: _People) -> _People:
    """Both paths' people in row order (slow rows that still shaped are few: +86 phones and the like)."""
    if not slow.rows:
        return fast
    merged = _People()
    order = sorted(
        [(row, 0, j) for j, row in enumerate(fast.rows)] + [(row, 1, j) for j, row in enumerate(slow.rows)]
    )
    for row, which, j in order:
        source = slow if which else fast
        key = source.household_keys[j]
        values = tuple(column[j] for column in source.values)
        merged.add(row, key, source.households[key], values)
    return merged


def _fast_people(
    table: list[Sequence[str]],
    offsets: list[int],
    header: Sequence[str],
    vault: Vault,
    communities: Mapping[str, tuple[int, str]],
) -> tuple[_People, list[int]]:
    """Shape the plainly valid rows column by column; also return the rows left for ``shape_person``."""
    people = _People()
    n = len(table)
    if n == 0:
        return people, []
    columns = dict(zip(header, zip(*table, strict=True), strict=False))

    def column(name: str) -> list[str]:
        values = columns.get(name)
        return list(map(str.strip, values)) if values is not None else [""] * n

    ids = [x.upper() for x in column("id_number")]
    names, phones, addresses = column("name"), column("phone"), column("address")
    codes, given_sexes, given_births = column("community_code"), column("sex"), column("birth_date")
    batch = plainly_valid(ids, clock.today())
    births = [
        _birth_date(day) if ok else None
        for day, ok in zip(batch.yyyymmdd.tolist(), batch.valid.tolist(), strict=True)
    ]
    sexes = ["M" if male else "F" for male in batch.male.tolist()]
    places = list(map(communities.get, codes))
    plain = [
        birth is not None
        and place is not None
        and 0 < len(address) <= MAX_ADDRESS
        and NAME_PATTERN.match(name) is not None
        and (not phone or is_plain_mobile(phone))
        and (not given_sex or SEX_WORDS.get(given_sex.upper()) == sex)
        and (not given_birth or given_birth == birth[1] or given_birth.replace("/", "-") == birth[1])
        for birth, place, address, name, phone, sex, given_sex, given_birth in zip(
            births, places, addresses, names, phones, sexes, given_sexes, given_births, strict=True
        )
    ]
    fast = [k for k, ok in enumerate(plain) if ok]
    left = [k for k, ok in enumerate(plain) if not ok]
    if not fast:
        return people, left
    id_f = [ids[k] for k in fast]
    name_f = [names[k] for k in fast]
    phone_f = [phones[k] for k in fast]
    address_f = [addresses[k] for k in fast]
    # Plain rows have both by construction; the filters only narrow the types.
    place_f = [place for k in fast if (place := places[k]) is not None]
    birth_f = [birth[0] for k in fast if (birth := births[k]) is not None]
    keys = [codes[k] + "|" + addresses[k] for k in fast]
    # Members of a household share its hash and ciphertext: computed once per household in the chunk.
    first_of: dict[str, int] = {}
    for j, key in enumerate(keys):
        first_of.setdefault(key, j)
    firsts = list(first_of.values())
    hashes = vault.keyed_hashes_normalised(normalise_for_hash(key) for key in first_of)
    ciphers = vault.encrypt_texts([address_f[j] for j in firsts])
    people.households = {
        key: (*place_f[j], hashes[i], ciphers[i], mask_address(address_f[j]))
        for i, (key, j) in enumerate(first_of.items())
    }
    with_phone = [phone for phone in phone_f if phone]
    phone_hashes = iter(vault.keyed_hashes_normalised(with_phone))
    people.rows = [offsets[k] for k in fast]
    people.household_keys = keys
    people.values = [
        [place[0] for place in place_f],
        [place[1] for place in place_f],
        vault.encrypt_texts(personal_texts(zip(id_f, name_f, phone_f, address_f, strict=True))),
        vault.keyed_hashes_normalised(id_f),
        [next(phone_hashes) if phone else None for phone in phone_f],
        vault.keyed_hashes_normalised(map(normalise_for_hash, name_f)),
        # The masks of mask_id_number and mask_phone, written out for the plain 18 and 11 characters.
        [f"{number[:3]}***********{number[14:]}" for number in id_f],
        [f"{phone[:3]}****{phone[7:]}" if phone else None for phone in phone_f],
        list(map(mask_name, name_f)),
        [sexes[k] for k in fast],
        birth_f,
    ]
    return people, left


def _collect(chunk: ShapedChunk, people: _People, created_at: dt.datetime, binary_copy: bool) -> None:
    """Number the chunk's households and lay the people out for the backend's write path."""
    local: dict[str, int] = {}
    chunk.household_of = [local.setdefault(key, len(local)) for key in people.household_keys]
    chunk.households = [people.households[key] for key in local]
    chunk.rows = people.rows
    chunk.id_hashes = people.values[3]
    if not binary_copy:
        # Raw executemany on SQLite: the instant in the text form an Instant column keeps.
        chunk.people = list(zip(*people.values, itertools.repeat(sqlite_instant(created_at))))
        return
    encoded = _binary_rows(people.values, pgcopy.timestamptz(created_at))
    chunk.copy_offsets = list(itertools.accumulate(map(len, encoded[:-1]), initial=0))
    chunk.copy_rows = b"".join(encoded)


# Encoded (jurisdiction_id, jpath) pairs and birth dates: a region has few of either.
_PLACES: dict[tuple[int, str], bytes] = {}
_ENCODED_DATES: dict[dt.date, bytes] = {}
_HASH_LENGTH = "\x00\x00\x00\x20"  # 32 characters of hex
_ID_MASK_LENGTH = "\x00\x00\x00\x12"  # 18
_PHONE_MASK_LENGTH = "\x00\x00\x00\x0b"  # 11
_NULL = pgcopy.NULL.decode("latin-1")
_SEX = {"M": pgcopy.text("M"), "F": pgcopy.text("F")}


def _binary_rows(values: list[list[Any]], created: bytes) -> list[bytes]:
    """The people as binary COPY rows (household id 0).

    The ASCII fields of a row (hashes, masks of ID and phone, NULL markers) are put together as one
    latin-1 string and encoded once: latin-1 maps each character to the byte of the same value, so the
    length words can be written as characters too.
    """
    rows = []
    for (
        jurisdiction_id,
        jpath,
        pii,
        id_hash,
        phone_hash,
        name_hash,
        id_mask,
        phone_mask,
        name_mask,
        sex,
        birth,
    ) in zip(*values, strict=True):
        place = _PLACES.get((jurisdiction_id, jpath))
        if place is None:
            place = _PLACES[(jurisdiction_id, jpath)] = pgcopy.int4(jurisdiction_id) + pgcopy.text(jpath)
        born = _ENCODED_DATES.get(birth)
        if born is None:
            born = _ENCODED_DATES[birth] = pgcopy.date(birth)
        ascii_part = (
            f"{_HASH_LENGTH}{id_hash}"
            f"{_NULL if phone_hash is None else _HASH_LENGTH + phone_hash}"
            f"{_HASH_LENGTH}{name_hash}{_ID_MASK_LENGTH}{id_mask}"
            f"{_NULL if phone_mask is None else _PHONE_MASK_LENGTH + phone_mask}"
        )
        name = name_mask.encode("utf-8")
        rows.append(
            b"".join(
                (
                    _ROW_START,
                    place,
                    len(pii).to_bytes(4, "big"),
                    pii,
                    ascii_part.encode("latin-1"),
                    len(name).to_bytes(4, "big"),
                    name,
                    _SEX[sex],
                    born,
                    created,
                )
            )
        )
    return rows
