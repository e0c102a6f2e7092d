"""A person's scan code: what the sampler's handheld reads off the person's screen or card.

The code carries the person's registry id and a keyed check (``FK1-<id>-<check>``), so the server knows
whom it names without a database round trip and nobody can make a valid code for someone else by
counting ids. The check is keyed BLAKE2b (RFC 7693) under the platform's hash key, with its own
personalisation string so that a scan code can never equal, or be derived from, the registry's keyed
hashes of ID numbers and phones. Forty bits of check: one chance in a trillion per forged try, and a
handheld that sends forgeries is refused scan by scan long before that matters. Codes use base32 (upper
case letters and digits 2–7) so they survive QR, barcode and hand entry, and are read case-insensitively.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Final

PREFIX: Final[str] = "FK1"  # format version: a new key or layout gets a new prefix
# Domain separation from the registry's hashes (BLAKE2b's personalisation parameter, at most 16 bytes).
_PERSON: Final[bytes] = b"fangkong-scan-1"
_CHECK_BYTES: Final[int] = 5  # 40 bits, 8 base32 characters
_CODE = re.compile(r"^FK1-([1-9][0-9]{0,11})-([A-Z2-7]{8})$")
_BASE32: Final[str] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 §6
_PAIRS: Final[list[str]] = [_BASE32[i >> 5] + _BASE32[i & 31] for i in range(1024)]


class ScanCodes:
    """Makes and reads scan codes under one key (the settings' ``hash_key``, urlsafe base64)."""

    def __init__(self, hash_key: str) -> None:
        self._keyed = hashlib.blake2b(
            key=base64.urlsafe_b64decode(hash_key), digest_size=_CHECK_BYTES, person=_PERSON
        )

    def _check(self, person_id: int) -> str:
        state = self._keyed.copy()
        state.update(str(person_id).encode("ascii"))
        # base32 of the 40 bits, ten bits at a time from a table: the same text as base64.b32encode, which
        # is pure Python and took a third of a site upload's ten million checks.
        n = int.from_bytes(state.digest(), "big")
        return _PAIRS[n >> 30] + _PAIRS[(n >> 20) & 1023] + _PAIRS[(n >> 10) & 1023] + _PAIRS[n & 1023]

    def code_for(self, person_id: int) -> str:
        if person_id <= 0:
            raise ValueError(f"person ids are positive (got {person_id})")
        return f"{PREFIX}-{person_id}-{self._check(person_id)}"

    def person_of(self, code: str) -> int | None:
        """The person a code names, or None when it is malformed or its check does not hold."""
        # Handhelds send the code as it was made; only a typed one needs trimming and upper-casing.
        found = _CODE.match(code) or _CODE.match(code.strip().upper())
        if found is None:
            return None
        person_id = int(found.group(1))
        if not hmac.compare_digest(found.group(2), self._check(person_id)):
            return None
        return person_id
