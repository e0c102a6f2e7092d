"""The bulk shaping path agrees with the one-row rules: same errors, same stored values, any mix of rows."""

from __future__ import annotations

import base64
import datetime as dt
import os
import random

import numpy as np
import pytest

from fangkong.core.crypto import Vault
from fangkong.core.db import sqlite_instant
from fangkong.core.errors import RowError
from fangkong.core.idnumber import InvalidIdNumber, generate_id_numbers, plainly_valid, validate_id_number
from fangkong.core.people_batch import PEOPLE_COLUMNS, ShapedChunk, shape_rows
from fangkong.core.people_rules import Keys, ShapedPerson, shape_person

HEADER = ["id_number", "name", "phone", "sex", "birth_date", "community_code", "address"]
COMMUNITIES = {"330106001001": (7, "/33/3301/330106/330106001/330106001001/"), "330106001002": (8, "/x/")}
KEYS = Keys(*(base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2)))
NOW = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)


def _ids(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    births = np.datetime64("1950-01-01") + rng.integers(0, 70 * 365, size=n).astype("timedelta64[D]")
    return [str(x) for x in generate_id_numbers(np.full(n, 330106), births, rng.random(n) < 0.5, rng)]


def _mixed_rows() -> list[list[str]]:
    ids = _ids(40)
    full_width = ids[5].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    born = validate_id_number(ids[6]).birth_date
    sex = validate_id_number(ids[7]).sex
    rows = [
        [ids[0], "张三", "13800138000", "", "", "330106001001", "文一路1号"],
        [ids[1], "李四", "", "", "", "330106001001", "文一路1号"],  # same household, no phone
        [ids[2], "王五", "+86 138-0013-8001", "", "", "330106001002", "文二路2号"],  # normalised phone
        [ids[3].lower(), "赵六", "13800138002", "", "", "330106001001", "文三路3号"],  # lower-case x
        [ids[4][:17] + ("0" if ids[4][17] != "0" else "1"), "钱七", "", "", "", "330106001001", "a"],
        [full_width, "孙八", "", "", "", "330106001001", "文一路1号"],  # full-width digits
        [ids[6], "周九", "", "", born.isoformat().replace("-", "/"), "330106001001", "b"],
        [ids[7], "吴十", "", "女" if sex == "M" else "男", "", "330106001001", "c"],  # contradicts
        [ids[8], "郑一", "12", "", "", "330106001001", "d"],  # bad phone
        [ids[9], "", "", "", "", "330106001001", "e"],  # missing name
        [ids[10], "冯二", "", "", "", "999999999999", "f"],  # unknown community
        [ids[11], "陈三", "", "", "", "330106001001", "长" * 201],  # address too long
        [ids[12], "楚四", "", "", "", "330106001001"],  # a column short
        [
            ids[13],
            "魏五",
            "",
            "M" if validate_id_number(ids[13]).sex == "M" else "F",
            "",
            "330106001002",
            " 文二路2号 ",
        ],
        ["110105199902301234", "蒋六", "", "", "", "330106001001", "g"],  # 30 February
        [ids[14], "沈七 ", " 13800138003 ", "", "", "330106001001", "文一路1号"],  # spaces trimmed
    ]
    rows += [
        [ids[15 + k], "韩" + "一二三四五六七八九十"[k % 10], "", "", "", "330106001001", f"h{k % 4}"]
        for k in range(20)
    ]
    return rows


def _one_by_one(rows: list[list[str]]) -> tuple[list[tuple[int, ShapedPerson]], list[RowError]]:
    vault = Vault(KEYS.encryption_key, KEYS.hash_key)
    errors: list[RowError] = []
    shaped = []
    for offset, values in enumerate(rows):
        if len(values) != len(HEADER):
            errors.append(RowError(offset, "*", f"has {len(values)} columns, the header has {len(HEADER)}"))
            continue
        person = shape_person(offset, dict(zip(HEADER, values, strict=True)), vault, COMMUNITIES, errors)
        if person is not None:
            shaped.append((offset, person))
    return shaped, errors


def _comparable(vault: Vault, person: ShapedPerson) -> tuple[object, ...]:
    """A shaped person with its ciphertexts decrypted (nonces are random, plaintexts must agree)."""
    return (
        *person[:3],
        vault.decrypt_text(person[3]),
        person[4],
        vault.decrypt_person(person[5]),
        *person[6:],
    )


def _chunk_people(vault: Vault, chunk: ShapedChunk) -> list[tuple[int, tuple[object, ...]]]:
    out = []
    for row, household_index, values in zip(chunk.rows, chunk.household_of, chunk.people, strict=True):
        jurisdiction_id, jpath, address_hash, cipher, masked = chunk.households[household_index]
        person = (jurisdiction_id, jpath, address_hash, cipher, masked, *values[2:-1])
        assert values[:2] == (jurisdiction_id, jpath)
        assert values[-1] == sqlite_instant(NOW)  # the text an Instant column keeps on SQLite
        out.append((row, _comparable(vault, person)))  # type: ignore[arg-type]
    return out


def test_bulk_path_gives_the_errors_and_values_of_the_one_row_rules() -> None:
    rows = _mixed_rows()
    vault = Vault(KEYS.encryption_key, KEYS.hash_key)
    expected_people, expected_errors = _one_by_one(rows)
    chunk = shape_rows(rows, HEADER, KEYS, COMMUNITIES, NOW, binary_copy=False)
    assert sorted(chunk.errors, key=lambda e: (e.row, e.field)) == sorted(
        expected_errors, key=lambda e: (e.row, e.field)
    )
    assert {e.row for e in chunk.errors} == {4, 7, 8, 9, 10, 11, 12, 14}
    assert _chunk_people(vault, chunk) == [(row, _comparable(vault, p)) for row, p in expected_people]


def test_members_of_one_household_share_one_household_row() -> None:
    rows = _mixed_rows()
    chunk = shape_rows(rows, HEADER, KEYS, COMMUNITIES, NOW, binary_copy=False)
    by_row = dict(zip(chunk.rows, chunk.household_of, strict=True))
    # Rows 0, 1, 5 and 15 live at 文一路1号 in the same community; row 13 trims to 文二路2号 like row 2.
    assert by_row[0] == by_row[1] == by_row[5] == by_row[15]
    assert by_row[2] == by_row[13]
    assert len({h[2] for h in chunk.households}) == len(chunk.households)


def test_full_width_id_is_stored_folded() -> None:
    rows = _mixed_rows()
    vault = Vault(KEYS.encryption_key, KEYS.hash_key)
    chunk = shape_rows(rows, HEADER, KEYS, COMMUNITIES, NOW, binary_copy=False)
    values = chunk.people[chunk.rows.index(5)]
    assert vault.decrypt_person(values[2]).id_number == _ids(40)[5]  # type: ignore[arg-type]
    assert values[3] == vault.keyed_hash(_ids(40)[5])


def test_binary_rows_start_where_the_offsets_say() -> None:
    rows = _mixed_rows()
    chunk = shape_rows(rows, HEADER, KEYS, COMMUNITIES, NOW, binary_copy=True)
    assert len(chunk.copy_offsets) == len(chunk.rows)
    for offset in chunk.copy_offsets:
        # Each row opens with its field count and the household id's 4-byte length word.
        assert (
            chunk.copy_rows[offset : offset + 6]
            == len(PEOPLE_COLUMNS).to_bytes(2, "big") + b"\x00\x00\x00\x04"
        )


@pytest.mark.parametrize("seed", range(5))
def test_vector_id_check_agrees_with_the_validator(seed: int) -> None:
    """Random edits of valid numbers: the vector check accepts exactly what the validator accepts."""
    rnd = random.Random(seed)
    today = dt.date(2026, 11, 29)
    numbers = []
    for number in _ids(300, seed):
        chars = list(number)
        for _ in range(rnd.choice([0, 0, 1, 2])):
            chars[rnd.randrange(18)] = rnd.choice("0123456789X/ a")
        text = "".join(chars)
        numbers.append(text[: rnd.choice([18, 18, 18, 17, 19])].upper())
    batch = plainly_valid(numbers, today)
    for number, accepted, yyyymmdd, male in zip(
        numbers, batch.valid, batch.yyyymmdd, batch.male, strict=True
    ):
        try:
            info = validate_id_number(number, today=today)
        except InvalidIdNumber:
            assert not accepted, number
            continue
        assert accepted, number
        assert info.birth_date == dt.date(
            int(yyyymmdd) // 10000, int(yyyymmdd) // 100 % 100, int(yyyymmdd) % 100
        )
        assert info.sex == ("M" if male else "F")
