"""What a scan is and what became of it: a handheld's ``Scan`` and a site system's ``SamplingRecord``, the
outcome of each, the reports of a call (``BindReport``, ``IngestReport``), and the checks of a scan's own
shape, made before any database is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from fangkong.core.i18n import Message
from fangkong.testing.models import TubeKind
from fangkong.testing.rules.rounds import POOL_SIZES

# Longest barcode and device id the tables hold, characters.
MAX_BARCODE = 40
MAX_DEVICE_ID = 40
# Largest device sequence number (the column is a 32-bit integer).
MAX_SEQ = 2**31 - 1


@dataclass(frozen=True)
class Scan:
    """One scan of a handheld: this person's swab went into this tube.

    ``pool_size`` and ``kind`` describe the tube when the scan opens it (later scans may leave them out):
    by default a tube holds the campaign's pool size, is a household tube in a sealed area and a pooled
    one elsewhere, and a pool size of 1 makes a single tube.
    """

    device_id: str
    device_seq: int
    round_id: int
    barcode: str
    person_code: str
    scanned_at: dt.datetime
    pool_size: int | None = None
    kind: TubeKind | None = None
    site_id: int | None = None


class ScanStatus:
    recorded = "recorded"
    already_recorded = "already_recorded"
    refused = "refused"


@dataclass(frozen=True)
class ScanOutcome:
    """What became of one scan (``index`` is its place in the call); ``field`` names the scan's part at
    fault when refused."""

    index: int
    device_id: str
    device_seq: int
    status: str
    message: Message | None = None
    field: str = ""

    @property
    def text(self) -> str:
        return "" if self.message is None else str(self.message)


@dataclass
class BindReport:
    outcomes: list[ScanOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def recorded(self) -> int:
        return self._count(ScanStatus.recorded)

    @property
    def already_recorded(self) -> int:
        return self._count(ScanStatus.already_recorded)

    @property
    def refused(self) -> int:
        return self._count(ScanStatus.refused)


class SamplingRecord(NamedTuple):
    """One row of a site system's upload (a plain tuple in this order will do)."""

    device_id: str
    device_seq: int
    person_code: str
    barcode: str
    pool_size: int | None
    kind: TubeKind | None
    scanned_at: dt.datetime


@dataclass
class IngestReport:
    """What an upload did: counts, and each refused row by its index in the upload (ascending)."""

    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    refusals: list[ScanOutcome] = field(default_factory=list)
    # Rows decided by ``bind`` (sealed areas, single tubes, tubes of another kind or round).
    through_bind: int = 0

    @property
    def refused(self) -> int:
        return len(self.refusals)


def _shape_problem(scan: Scan) -> tuple[str, Message] | None:
    if not scan.device_id or len(scan.device_id) > MAX_DEVICE_ID:
        return "device_id", Message("the device id must have 1 to {n} characters", n=MAX_DEVICE_ID)
    if not 0 <= scan.device_seq <= MAX_SEQ:
        return "device_seq", Message("the sequence number must be between 0 and {n}", n=MAX_SEQ)
    if not scan.barcode or len(scan.barcode) > MAX_BARCODE:
        return "barcode", Message("the tube barcode must have 1 to {n} characters", n=MAX_BARCODE)
    if scan.scanned_at.tzinfo is None:
        return "scanned_at", Message("the scan time must carry its time zone")
    if scan.pool_size is not None and scan.pool_size not in POOL_SIZES:
        return "pool_size", Message("pool size must be one of {sizes}", sizes=list(POOL_SIZES))
    if scan.kind is TubeKind.single and scan.pool_size not in (None, 1):
        return "pool_size", Message("a single tube holds one person")
    return None


def _record_problem(record: SamplingRecord) -> tuple[str, Message] | None:
    device, seq, _code, barcode, pool_size, kind, scanned_at = record
    if not isinstance(device, str) or not device or len(device) > MAX_DEVICE_ID:
        return "device_id", Message("the device id must have 1 to {n} characters", n=MAX_DEVICE_ID)
    if not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        return "device_seq", Message("the sequence number must be between 0 and {n}", n=MAX_SEQ)
    if not isinstance(barcode, str) or not barcode or len(barcode) > MAX_BARCODE:
        return "barcode", Message("the tube barcode must have 1 to {n} characters", n=MAX_BARCODE)
    if not isinstance(scanned_at, dt.datetime) or scanned_at.tzinfo is None:
        return "scanned_at", Message("the scan time must carry its time zone")
    if pool_size is not None and pool_size not in POOL_SIZES:
        return "pool_size", Message("pool size must be one of {sizes}", sizes=list(POOL_SIZES))
    if kind is not None and not isinstance(kind, TubeKind):
        return "kind", Message("“{value}” is not a kind of tube", value=str(kind))
    if kind is TubeKind.single and pool_size not in (None, 1):
        return "pool_size", Message("a single tube holds one person")
    return None
