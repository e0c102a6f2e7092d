"""Scan codes: a person's id with a keyed check, read back without a database; forgeries refused."""

from __future__ import annotations

import base64
import secrets

import pytest

from fangkong.core.crypto import Vault
from fangkong.testing.rules.codes import ScanCodes


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_a_code_names_its_person() -> None:
    codes = ScanCodes(_key())
    for person in (1, 42, 10_000_000, 999_999_999_999):
        code = codes.code_for(person)
        assert code.startswith("FK1-")
        assert codes.person_of(code) == person
        assert codes.person_of(code.lower()) == person  # hand entry, any case
        assert codes.person_of(f"  {code}\n") == person


def test_codes_are_stable_under_one_key_and_differ_between_keys() -> None:
    key = _key()
    assert ScanCodes(key).code_for(7) == ScanCodes(key).code_for(7)
    other = ScanCodes(_key())
    assert other.person_of(ScanCodes(key).code_for(7)) is None


def test_forged_codes_are_refused() -> None:
    codes = ScanCodes(_key())
    real = codes.code_for(1234)
    check = real.rsplit("-", 1)[1]
    # Someone else's id with this check, the check changed by one character, a made-up code.
    assert codes.person_of(f"FK1-1235-{check}") is None
    flipped = ("A" if check[0] != "A" else "B") + check[1:]
    assert codes.person_of(f"FK1-1234-{flipped}") is None
    for junk in (
        "",
        "1234",
        "FK1-1234",
        "FK1-0-AAAAAAAA",
        "FK2-1234-" + check,
        "FK1--5-" + check,
        real + "X",
    ):
        assert codes.person_of(junk) is None


def test_a_code_is_not_the_registry_hash_of_the_id() -> None:
    key = _key()
    vault = Vault(_key(), key)
    code = ScanCodes(key).code_for(55)
    assert vault.keyed_hash("55")[:8].upper() not in code


def test_ids_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScanCodes(_key()).code_for(0)
