"""Personal data at rest: AES-256-GCM ciphertexts and keyed hashes for matching.

The four personal fields of a person travel as one ciphertext (one nonce, one tag) rather than four:
it is a quarter of the work on bulk imports and the fields are always revealed together anyway.
Hashes are keyed BLAKE2b (a PRF in its keyed mode, RFC 7693) under a separate key, 128 bits (collisions
stay negligible at national scale), over a normalised form so that the same ID or phone written
differently matches. BLAKE2b rather than HMAC-SHA256: one pass instead of two, about three times
faster, which matters at four hashes per person on million-row imports.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_SEP = "\x1f"  # ASCII unit separator: cannot occur in validated IDs, phones, names or addresses.
_NONCE_BYTES = 12


@dataclass(frozen=True)
class PersonalData:
    id_number: str
    name: str
    phone: str
    address: str


def normalise_for_hash(value: str) -> str:
    """The form a value is hashed in: white space removed, upper case."""
    return "".join(value.split()).upper()


def personal_text(data: PersonalData) -> str:
    """The plaintext of a person's one ciphertext: the four fields joined by the unit separator."""
    return _SEP.join((data.id_number, data.name, data.phone, data.address))


def personal_texts(fields: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """``personal_text`` of many (id_number, name, phone, address) tuples."""
    return list(map(_SEP.join, fields))


class DecryptionError(ValueError):
    """A ciphertext did not authenticate: wrong key or tampered data."""


class Vault:
    """Encrypts, decrypts and hashes personal data with the platform's keys."""

    def __init__(self, encryption_key: str, hash_key: str) -> None:
        self._aead = AESGCM(base64.urlsafe_b64decode(encryption_key))
        # The keyed state is set up once and copied for every hash: cheaper than keying each time.
        self._keyed = hashlib.blake2b(key=base64.urlsafe_b64decode(hash_key), digest_size=16)
        self._hash_key = hash_key

    @property
    def hash_key(self) -> str:
        """The keyed-hash key (urlsafe base64), for other keyed checks that use it with their own
        personalisation (testing's scan codes), so every part of the platform keys from one setting."""
        return self._hash_key

    def encrypt_text(self, text: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, text.encode("utf-8"), None)

    def decrypt_text(self, blob: bytes) -> str:
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None)
        except Exception as exc:  # cryptography raises InvalidTag; callers need one clear type
            raise DecryptionError("personal data did not authenticate") from exc
        return plain.decode("utf-8")

    def encrypt_person(self, data: PersonalData) -> bytes:
        return self.encrypt_text(personal_text(data))

    def decrypt_person(self, blob: bytes) -> PersonalData:
        id_number, name, phone, address = self.decrypt_text(blob).split(_SEP)
        return PersonalData(id_number=id_number, name=name, phone=phone, address=address)

    def keyed_hash(self, value: str) -> str:
        return self.keyed_hash_normalised(normalise_for_hash(value))

    def keyed_hash_normalised(self, normalised: str) -> str:
        """The keyed hash of a value already in normal form (no white space, upper case)."""
        state = self._keyed.copy()
        state.update(normalised.encode("utf-8"))
        return state.hexdigest()

    def keyed_hashes_normalised(self, values: Iterable[str]) -> list[str]:
        """``keyed_hash_normalised`` of many values."""
        return list(map(self.keyed_hash_normalised, values))

    def encrypt_texts(self, texts: Sequence[str]) -> list[bytes]:
        """``encrypt_text`` of many texts, with their random nonces drawn in one call."""
        nonces = os.urandom(_NONCE_BYTES * len(texts))
        encrypt = self._aead.encrypt
        out = []
        for i, text in enumerate(texts):
            nonce = nonces[i * _NONCE_BYTES : (i + 1) * _NONCE_BYTES]
            out.append(nonce + encrypt(nonce, text.encode("utf-8"), None))
        return out


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜: keep the first character, and the last when there are three or more."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_address(address: str) -> str:
    """Keep the street part, hide the building/unit/room digits that locate a home."""
    cut = max(len(address) // 2, 1)
    return address[:cut] + "***"
