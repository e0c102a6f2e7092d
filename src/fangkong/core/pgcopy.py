"""PostgreSQL's binary COPY format, written without a connection so that worker processes can do it.

Bulk imports build their rows in worker processes and hand the main process bytes it only passes on,
instead of millions of Python values it would have to convert one by one. The layout is the one in the
PostgreSQL manual (COPY, "Binary Format"): a signature and two 32-bit header words, then per tuple a
16-bit field count and per field a 32-bit byte length (-1 for NULL) followed by the value in network
byte order. psycopg's ``Copy.write`` passes such bytes through and adds the trailer itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(4) + bytes(4)  # signature, flags, header extension length
NULL = b"\xff\xff\xff\xff"
_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
INT4_VALUE_AT = 4  # an int4 field's value starts after its 4-byte length word


def field_count(fields: int) -> bytes:
    return fields.to_bytes(2, "big")


def int4(value: int) -> bytes:
    return b"\x00\x00\x00\x04" + value.to_bytes(4, "big", signed=True)


def text(value: str | None) -> bytes:
    if value is None:
        return NULL
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def date(value: dt.date) -> bytes:
    return int4((value - _EPOCH_DATE).days)


def timestamptz(value: dt.datetime) -> bytes:
    micros = (value - _EPOCH) // dt.timedelta(microseconds=1)
    return b"\x00\x00\x00\x08" + micros.to_bytes(8, "big", signed=True)


def set_int4(rows: bytes, offsets: Sequence[int], values: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Write ``values`` into the int4 fields whose value bytes start at ``offsets``; one numpy pass."""
    buffer = np.frombuffer(rows, dtype=np.uint8).copy()
    where = np.asarray(offsets, dtype=np.int64)[:, None] + np.arange(4)
    buffer[where] = values.astype(">i4").view(np.uint8).reshape(-1, 4)
    return buffer
