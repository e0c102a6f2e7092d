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


def test_the_check_is_the_base32_of_the_keyed_blake2b() -> None:
    """The table-driven encoder writes exactly RFC 4648 base32 (codes printed before it still read)."""
    import hashlib

    key = _key()
    codes = ScanCodes(key)
    keyed = hashlib.blake2b(key=base64.urlsafe_b64decode(key), digest_size=5, person=b"fangkong-scan-1")
    for person in (1, 9, 31, 1024, 65_537, 10_000_000, 999_999_999_999):
        state = keyed.copy()
        state.update(str(person).encode("ascii"))
        assert codes.code_for(person) == f"FK1-{person}-{base64.b32encode(state.digest()).decode()}"
