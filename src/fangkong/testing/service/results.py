"""Lab results by tube barcode, from CSV and Excel files and from HL7 FHIR R4 bundles.

A load is three steps. It reads and checks every row first: a bad row (a missing barcode, a result that
is no result, a Ct that is no number, a time in the future) refuses the whole file, every problem named by
its row and its column as the file wrote it, and nothing is written. The one partial load is a barcode no
tube has: that row is reported and the rest loads (a lab's file often covers several districts' tubes).

Then it writes in chunks, each committed on its own, so that a load killed mid-file (``kill -9``, a power
cut) keeps the chunks it finished and a re-run picks up where it stopped. What makes that safe is the
result's own identity, not a progress record: every row has a digest of what it says, and a row whose
digest a version of that tube already has is "already loaded". The same file loaded twice therefore
writes nothing, and a row that says something new about a tube is a correction: the next version, never
an overwrite (or the version the file names, in its 版本/version column).

Applying a tube's newest result is the third step, in the same transaction as its rows: the tube takes
the result; the orders sampled into it are resulted; a positive single-person tube publishes
``PersonTestedPositive`` (tracing opens a case); a positive pool flags its members for recall, places
them under the protocol's temporary measure (``pool_positive_member``, through
``PeoplePlacedUnderManagement``) and publishes ``PoolFoundPositive``; an invalid result reopens the orders
for a new sample.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import as_utc, from_local, local_day, utcnow
from fangkong.core.csvtext import read_csv_text
from fangkong.core.db import Instant
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import (
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    bus_of,
)
from fangkong.core.i18n import Message
from fangkong.protocol.service import get_protocol, protocol_ids_in_force
from fangkong.testing import fhir_results
from fangkong.testing.events import PersonTestedPositive, PoolFoundPositive
from fangkong.testing.models import (
    Laboratory,
    LabResult,
    Recall,
    RecallState,
    TestOrder,
    TestResult,
    Tube,
    TubeKind,
    TubeMember,
)
from fangkong.testing.service.scanning import stage_rows

# Rows written and committed together. A killed load loses at most one chunk's work (a few seconds), which a
# re-run does again. Each chunk joins its staged barcodes with the tubes and the stored results: at 5,000
# rows a chunk a million-tube file made 200 such joins, each reading the whole tubes table (its
# 100,000-tube round loaded in 35 s); at 20,000 it makes 50.
CHUNK_ROWS = 20_000
# Barcodes per look-up query (well under SQLite's 32,766 bound parameters).
LOOKUP_BATCH = 2_000
# Largest believable Ct, cycles: SARS-CoV-2 RT-PCR kits run 40 to 45 cycles (as fhir_results.MAX_CT).
MAX_CT = fhir_results.MAX_CT
# A result time up to this far ahead of the server's clock is a lab clock running fast, not a typo.
CLOCK_SKEW = dt.timedelta(minutes=10)

# Hours members of a positive pool have to be located and isolated, h. protocols.md §5 rt.pool.positive
# (S, S18) gives the measure, single-tube retests after temporary isolation, but no deadline, and the
# regional-testing guide's positive-pool deadlines are U (protocols.md open question 3). 6 h is a local
# practice (L): it fits inside the 12 h lab turnaround (§7 epi.lab_turnaround, C, S54) so the retests of
# a morning's positive pools are back the same day.
RECALL_DEADLINE_HOURS = 6

# The protocol category members of a positive pool are placed under (protocol files cn-8, cn-9, cn-9-20).
POOL_MEMBER_CATEGORY = "pool_positive_member"

# Called with the chunk's number after its rows are written and before they commit: the crash test
# stops the loader there and kills it. ``None`` in normal use.
on_chunk_written: Callable[[int], None] | None = None

_RESULTS = cast(Table, LabResult.__table__)
_TUBES = cast(Table, Tube.__table__)
_ORDERS = cast(Table, TestOrder.__table__)
_RECALLS = cast(Table, Recall.__table__)
RESULT_COLUMNS = (
    "barcode", "tube_id", "laboratory_id", "version", "result", "ct_values", "min_ct", "tested_at",
    "loaded_at", "origin", "digest",
)  # fmt: skip
RECALL_COLUMNS = (
    "tube_id", "person_id", "jpath", "state", "flagged_at", "deadline_at", "located_at", "retest_barcode",
    "result",
)  # fmt: skip

# The columns of a results file, by canonical name: the names a header may use (compared lower-case,
# spaces, underscores and hyphens ignored). Column names in errors are the header as the file wrote it.
HEADERS: dict[str, tuple[str, ...]] = {
    "barcode": ("条码", "管码", "样本条码", "试管条码", "barcode", "tubebarcode"),
    "result": ("结果", "检测结果", "result"),
    "ct_orf1ab": ("ctorf1ab", "orf1abct", "orf1ab", "orf1ab基因ct值", "ct值orf1ab"),
    "ct_n": ("ctn", "nct", "n基因ct值", "ct值n"),
    "tested_at": ("检测时间", "报告时间", "testedat", "testtime", "time"),
    "version": ("版本", "版本号", "version"),
}
REQUIRED = ("barcode", "result", "tested_at")
# The gene each Ct column reports, as stored with the result.
GENES = {"ct_orf1ab": "ORF1ab", "ct_n": "N"}

RESULT_WORDS: dict[str, TestResult] = {
    "阳性": TestResult.positive,
    "阳": TestResult.positive,
    "positive": TestResult.positive,
    "pos": TestResult.positive,
    "+": TestResult.positive,
    "detected": TestResult.positive,
    "阴性": TestResult.negative,
    "阴": TestResult.negative,
    "negative": TestResult.negative,
    "neg": TestResult.negative,
    "-": TestResult.negative,
    "not detected": TestResult.negative,
    "无效": TestResult.invalid,
    "invalid": TestResult.invalid,
    "不确定": TestResult.invalid,
    "indeterminate": TestResult.invalid,
}
# What a lab writes in a Ct cell for a gene that did not amplify.
NO_CT = frozenset({"", "-", "/", "nd", "n/a", "na", "未检出", "无", "undetermined", "noct"})

_SPACES = re.compile(r"[\s_\-]+")


# ------------------------------------------------------------------------------------------ report


@dataclass
class LoadReport:
    """What a load did. ``unknown`` names each row whose barcode no tube has (reported, not loaded)."""

    origin: str
    rows: int = 0
    loaded: int = 0
    corrections: int = 0
    unchanged: int = 0
    unknown: list[RowError] = field(default_factory=list)
    tubes_resulted: int = 0
    positive_people: int = 0
    positive_pools: int = 0
    recalled: int = 0
    chunks: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class ResultLine:
    """One checked row: a tube's result as the lab reported it."""

    row: int
    barcode: str
    result: TestResult
    ct_values: Mapping[str, float]
    tested_at: dt.datetime
    version: int | None
    # The barcode's and the version's columns as the file names them (for the reports and errors).
    barcode_column: str = "barcode"
    version_column: str = "version"

    @property
    def digest(self) -> str:
        """SHA-256 of the row's content as ``json.dumps(content, sort_keys=True)`` writes it (``_content``
        writes that same text directly: json.dumps took a third of a million-tube load)."""
        return hashlib.sha256(_content(self).encode()).hexdigest()

    @property
    def min_ct(self) -> float | None:
        return min(self.ct_values.values()) if self.ct_values else None


_json_text = json.encoder.encode_basestring_ascii  # the C encoder json.dumps writes strings with


def _content(line: ResultLine) -> str:
    """The digested text of a row: exactly ``json.dumps({"barcode": ..., "ct": {gene: round(ct, 2)},
    "result": ..., "tested_at": ...}, sort_keys=True)`` (digests stored before read the same)."""
    if line.ct_values:
        ct = ", ".join(
            f"{_json_text(gene)}: {round(value, 2)!r}" for gene, value in sorted(line.ct_values.items())
        )
    else:
        ct = ""
    return (
        f'{{"barcode": {_json_text(line.barcode)}, "ct": {{{ct}}}, "result": {_json_text(line.result.value)},'
        f' "tested_at": {_json_text(as_utc(line.tested_at).isoformat())}}}'
    )


# ------------------------------------------------------------------------------------------ reading


Cell = str | int | float | bool | dt.datetime | dt.date | None


def _key(header: str) -> str:
    return _SPACES.sub("", header.strip().lstrip("\ufeff").lower())


_CANONICAL = {_key(alias): name for name, aliases in HEADERS.items() for alias in aliases}


def _text(value: Cell) -> str:
    if type(value) is str:  # a CSV cell: the common case, first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(path: Path) -> list[list[Cell]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput([RowError(1, "*", "the file is neither UTF-8 nor GB18030 text")], file=True)
        return [list(row) for row in read_csv_text(text)]
    raise InvalidInput(
        [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=path.name))], file=True
    )


def _read_xlsx(path: Path) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file; the user needs one message
        message = Message(
            "{name} is not a readable Excel file ({reason})", name=path.name, reason=exc.__class__.__name__
        )
        raise InvalidInput([RowError(1, "*", message)], file=True) from None
    try:
        return [list(values) for values in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _parse_time(value: Cell, cache: dict[str, dt.datetime | None] | None = None) -> dt.datetime | None:
    """``_parse_time_of`` remembered by text: a lab's file repeats a few run times over many rows."""
    if cache is None or not isinstance(value, str):
        return _parse_time_of(value)
    if value not in cache:
        cache[value] = _parse_time_of(value)
    return cache[value]


def _parse_time_of(value: Cell) -> dt.datetime | None:
    """A result time: an Excel date-time or text; without a zone it is the deployment's local time."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _text(value).replace("/", "-")
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if len(text) <= 10:
            return None  # a date alone is no result time
    return as_utc(moment) if moment.tzinfo is not None else from_local(moment)


def parse_rows(rows: Sequence[Sequence[Cell]]) -> list[ResultLine]:
    """Check every row of a results table (header first); ``InvalidInput`` names every problem."""
    if not rows:
        raise InvalidInput([RowError(1, "*", "the file is empty")], file=True)
    written = [_text(h).lstrip("\ufeff") for h in rows[0]]
    header = [_CANONICAL.get(_key(h), "") for h in written]
    shown = {name: w for name, w in zip(header, written, strict=True) if name}
    chinese = any(not h.isascii() for h in written)
    errors: list[RowError] = []
    for name in REQUIRED:
        if name not in shown:
            errors.append(
                RowError(1, HEADERS[name][0] if chinese else name, "column is missing from the header")
            )
    errors.extend(
        RowError(1, w, "is not a column of the results template")
        for name, w in zip(header, written, strict=True)
        if w and not name
    )
    if errors:
        raise InvalidInput(errors, file=True)

    now = utcnow()
    lines: list[ResultLine] = []
    # Rows already read, by barcode and version (None: no version given).
    seen: dict[str, dict[int | None, int]] = {}
    times: dict[str, dt.datetime | None] = {}
    where = {name: i for i, name in enumerate(header) if name}

    def cell(values: Sequence[Cell], name: str) -> Cell:
        i = where.get(name)
        return values[i] if i is not None and i < len(values) else None

    for number, values in enumerate(rows[1:], start=2):
        try:
            blank = not "".join(cast(Sequence[str], values)).strip()  # a CSV row: all text
        except TypeError:
            blank = not any(_text(v) for v in values)  # an Excel row: numbers, times, empty cells
        if blank:
            continue
        found = len(errors)

        def add(name: str, message: str | Message, row: int = number) -> None:
            errors.append(RowError(row, shown.get(name, name), message))

        barcode = _text(cell(values, "barcode"))
        if not barcode:
            add("barcode", "is required")
        elif len(barcode) > 40:
            add("barcode", Message("longer than {limit} characters", limit=40))
        word = _text(cell(values, "result")).lower()
        result = RESULT_WORDS.get(word)
        if not word:
            add("result", "is required")
        elif result is None:
            add(
                "result",
                Message(
                    "“{value}” is not a result: use 阳性/阴性/无效 or positive/negative/invalid", value=word
                ),
            )
        ct_values: dict[str, float] = {}
        for column, gene in GENES.items():
            raw = _text(cell(values, column))
            if raw.lower() in NO_CT:
                continue
            try:
                ct = float(raw)
            except ValueError:
                add(column, Message("“{value}” is not a number", value=raw))
                continue
            if not (math.isfinite(ct) and 0 < ct <= MAX_CT):
                add(column, Message("Ct {value} is not between 0 and {most} cycles", value=raw, most=MAX_CT))
                continue
            ct_values[gene] = ct
        raw_time = cell(values, "tested_at")
        tested_at = _parse_time(raw_time, times)
        if not _text(raw_time):
            add("tested_at", "is required")
        elif tested_at is None:
            add("tested_at", Message("“{value}” is not a date and time", value=_text(raw_time)))
        elif tested_at > now + CLOCK_SKEW:
            add("tested_at", "is in the future")
        version: int | None = None
        raw_version = _text(cell(values, "version"))
        if raw_version:
            if raw_version.isdigit() and int(raw_version) >= 1:
                version = int(raw_version)
            else:
                add("version", Message("“{value}” is not a version number (1, 2, ...)", value=raw_version))
        if barcode:
            # Two rows for one tube are two versions, each named: otherwise which one stands is a guess.
            earlier = seen.setdefault(barcode, {})
            clash = earlier.get(version) if version in earlier else earlier.get(None)
            if clash is None and version is None and earlier:
                clash = min(earlier.values())
            if clash is not None:
                add(
                    "barcode",
                    Message("tube {barcode} is already in row {other}", barcode=barcode, other=clash),
                )
            else:
                earlier[version] = number
        if len(errors) == found and result is not None and tested_at is not None:
            lines.append(
                ResultLine(
                    number,
                    barcode,
                    result,
                    ct_values,
                    tested_at,
                    version,
                    shown.get("barcode", "barcode"),
                    shown.get("version", "version"),
                )
            )
    if errors:
        raise InvalidInput(sorted(errors, key=lambda e: e.row), file=True)
    return lines


def fhir_lines(data: bytes | str | Mapping[str, Any]) -> tuple[fhir_results.FhirResults, list[ResultLine]]:
    """The results of a FHIR bundle as lines (the entry of its Observation as the row)."""
    parsed = fhir_results.parse_bundle(data)
    lines = [
        ResultLine(
            row=r.entry,
            barcode=r.tube_barcode,
            result=TestResult(r.result),
            ct_values=dict(r.ct_values),
            tested_at=r.resulted_at,
            version=None,
            barcode_column=f"Bundle.entry[{r.entry}].resource.specimen",
        )
        for r in parsed.results
    ]
    return parsed, lines


# ------------------------------------------------------------------------------------------ loading


def _laboratory(session: Session, principal: Principal, laboratory_id: int | None) -> int | None:
    if laboratory_id is None:
        return None
    lab = session.get(Laboratory, laboratory_id)
    if lab is None:
        raise NotFound(Message("laboratory {id} not found", id=laboratory_id))
    return lab.id


def load_results(
    session: Session,
    principal: Principal,
    path: Path,
    *,
    laboratory_id: int | None = None,
    origin: str = "",
    bus: EventBus | None = None,
    chunk_size: int = CHUNK_ROWS,
) -> LoadReport:
    """Load a lab's results file (CSV or Excel); commits each chunk (see the module doc)."""
    started = time.perf_counter()
    data = path.read_bytes()
    lines = parse_rows(_read_rows(path))
    file_digest = hashlib.sha256(data).hexdigest()
    report = LoadReport(origin=(origin or path.name)[:200])
    report.rows = len(lines)
    _check_versions(session, lines)
    lab = _laboratory(session, principal, laboratory_id)
    _load_lines(session, bus or bus_of(session), lines, report, lab, chunk_size)
    _audit(session, principal, report, file_digest)
    session.commit()
    report.seconds = time.perf_counter() - started
    return report


def load_fhir(
    session: Session,
    principal: Principal,
    data: bytes,
    *,
    laboratory_id: int | None = None,
    origin: str = "",
    bus: EventBus | None = None,
    chunk_size: int = CHUNK_ROWS,
) -> LoadReport:
    """Load a lab's FHIR R4 results bundle; a malformed one is refused naming the element."""
    started = time.perf_counter()
    parsed, lines = fhir_lines(data)
    report = LoadReport(origin=(origin or f"FHIR Bundle {parsed.bundle_id or ''}".strip())[:200])
    report.rows = len(lines)
    lab = _laboratory(session, principal, laboratory_id)
    _load_lines(session, bus or bus_of(session), lines, report, lab, chunk_size)
    _audit(session, principal, report, hashlib.sha256(data).hexdigest())
    session.commit()
    report.seconds = time.perf_counter() - started
    return report


def _audit(session: Session, principal: Principal, report: LoadReport, file_digest: str) -> None:
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, "web"),
        "testing.results.loaded",
        "testing_lab_results",
        report.origin,
        detail={
            "sha256": file_digest,
            "rows": report.rows,
            "loaded": report.loaded,
            "corrections": report.corrections,
            "unchanged": report.unchanged,
            "unknown": len(report.unknown),
        },
        jpath=principal.jpath,
    )


def _versions(session: Session, barcodes: Sequence[str]) -> dict[str, dict[int, str]]:
    """The stored versions of these tubes' results: barcode → version → digest."""
    found: dict[str, dict[int, str]] = {}
    for start in range(0, len(barcodes), LOOKUP_BATCH):
        rows = session.execute(
            select(LabResult.barcode, LabResult.version, LabResult.digest).where(
                LabResult.barcode.in_(barcodes[start : start + LOOKUP_BATCH])
            )
        )
        for row in rows:
            found.setdefault(row.barcode, {})[row.version] = row.digest
    return found


def _check_versions(session: Session, lines: Sequence[ResultLine]) -> None:
    """A version the file names that is already stored saying something else refuses the file."""
    named = [line for line in lines if line.version is not None]
    if not named:
        return
    stored = _versions(session, sorted({line.barcode for line in named}))
    errors = []
    for line in named:
        assert line.version is not None
        digest = stored.get(line.barcode, {}).get(line.version)
        if digest is not None and digest != line.digest:
            errors.append(
                RowError(
                    line.row,
                    line.version_column,
                    Message(
                        "version {version} of tube {barcode} is already loaded with another result: "
                        "send a correction as the next version",
                        version=line.version,
                        barcode=line.barcode,
                    ),
                )
            )
    if errors:
        raise InvalidInput(errors, file=True)


def _load_lines(
    session: Session,
    bus: EventBus,
    lines: Sequence[ResultLine],
    report: LoadReport,
    laboratory_id: int | None,
    chunk_size: int,
) -> None:
    for start in range(0, len(lines), chunk_size):
        report.chunks += 1
        _load_chunk(session, bus, lines[start : start + chunk_size], report, laboratory_id)
        if on_chunk_written is not None:
            on_chunk_written(report.chunks)
        session.commit()


@dataclass
class _TubeRow:
    id: int
    barcode: str
    kind: TubeKind
    pool_size: int
    jpath: str
    result: TestResult | None
    result_version: int


def _tubes(session: Session, barcodes: Sequence[str]) -> dict[str, _TubeRow]:
    found: dict[str, _TubeRow] = {}
    for start in range(0, len(barcodes), LOOKUP_BATCH):
        rows = session.execute(
            select(
                Tube.id, Tube.barcode, Tube.kind, Tube.pool_size, Tube.jpath, Tube.result, Tube.result_version
            ).where(Tube.barcode.in_(barcodes[start : start + LOOKUP_BATCH]))
        )
        for row in rows:
            found[row.barcode] = _TubeRow(*row)
    return found


# From this many barcodes on, a chunk's tubes and stored versions are read by joining the staged barcodes
# (two queries) instead of IN lists (a few thousand bound values each, parsed again every time).
STAGED_LOOKUP = 500
_BARCODES = "testing_results_barcodes"


def _staged_lookup(
    session: Session, barcodes: Sequence[str]
) -> tuple[dict[str, _TubeRow], dict[str, dict[int, str]]]:
    """The tubes and the stored result versions of these barcodes, as ``_tubes`` and ``_versions``."""
    stage_rows(session, _BARCODES, (("barcode", "varchar(40)"),), [(b,) for b in barcodes])
    tubes = {
        row[1]: _TubeRow(row[0], row[1], TubeKind(row[2]), row[3], row[4], _result(row[5]), row[6])
        for row in session.execute(
            text(
                "SELECT t.id, t.barcode, t.kind, t.pool_size, t.jpath, t.result, t.result_version"
                " FROM testing_results_barcodes b JOIN testing_tubes t ON t.barcode = b.barcode"
            )
        )
    }
    versions: dict[str, dict[int, str]] = {}
    for barcode, version, digest in session.execute(
        text(
            "SELECT r.barcode, r.version, r.digest FROM testing_results_barcodes b"
            " JOIN testing_lab_results r ON r.barcode = b.barcode"
        )
    ):
        versions.setdefault(barcode, {})[version] = digest
    return tubes, versions


def _result(value: str | None) -> TestResult | None:
    return None if value is None else TestResult(value)


def _load_chunk(
    session: Session,
    bus: EventBus,
    lines: Sequence[ResultLine],
    report: LoadReport,
    laboratory_id: int | None,
    origin: str | None = None,
) -> None:
    barcodes = sorted({line.barcode for line in lines})
    if len(barcodes) >= STAGED_LOOKUP:
        tubes, versions = _staged_lookup(session, barcodes)
    else:
        tubes = _tubes(session, barcodes)
        versions = _versions(session, barcodes)
    stamp = utcnow()
    rows: list[tuple[object, ...]] = []
    newest: dict[str, tuple[int, ResultLine]] = {}
    for line in lines:
        tube = tubes.get(line.barcode)
        if tube is None:
            report.unknown.append(
                RowError(
                    line.row,
                    line.barcode_column,
                    Message("no tube has barcode {barcode}: reported, not loaded", barcode=line.barcode),
                )
            )
            continue
        known = versions.setdefault(line.barcode, {})
        digest = line.digest
        if digest in known.values():
            report.unchanged += 1
            continue
        version = line.version if line.version is not None else max(known, default=0) + 1
        known[version] = digest
        report.loaded += 1
        if version > 1:
            report.corrections += 1
        rows.append(
            (
                line.barcode, tube.id, laboratory_id, version, line.result.value,
                json.dumps(dict(line.ct_values), ensure_ascii=False) if line.ct_values else "{}", line.min_ct,
                as_utc(line.tested_at),
                stamp, origin or report.origin, digest,
            )
        )  # fmt: skip
        if version > tube.result_version and version > newest.get(line.barcode, (0, line))[0]:
            newest[line.barcode] = (version, line)
    write_rows(session, _RESULTS, RESULT_COLUMNS, rows)
    if newest:
        _apply(session, bus, [(tubes[b], v, line) for b, (v, line) in newest.items()], report, stamp)


# ------------------------------------------------------------------------------------------ applying


@dataclass(frozen=True)
class _Member:
    tube_id: int
    person_id: int
    jpath: str
    order_id: int | None
    scanned_at: dt.datetime


def _is_single(tube: _TubeRow) -> bool:
    return tube.kind is TubeKind.single or tube.pool_size == 1


# The tubes a chunk results, staged for the set-based updates of _apply.
_APPLY = "testing_results_apply"
_APPLY_COLUMNS = (
    ("tube_id", "integer"), ("barcode", "varchar(40)"), ("result", "varchar(16)"), ("version", "integer"),
    ("resulted_at", "timestamptz"), ("pooled", "integer"),
)  # fmt: skip


def _apply(
    session: Session,
    bus: EventBus,
    changes: Sequence[tuple[_TubeRow, int, ResultLine]],
    report: LoadReport,
    stamp: dt.datetime,
) -> None:
    """Each tube takes its newest result; orders, recalls and events follow (see the module doc).

    Set-based whatever the chunk's size: the tubes are staged once and the tubes, their members' orders
    and the recalls they retest are each moved by one UPDATE ... FROM; only the positive tubes' members
    (few) are read back, for the recalls and the events.
    """
    stage_rows(
        session,
        _APPLY,
        _APPLY_COLUMNS,
        [
            (t.id, t.barcode, line.result.value, v, as_utc(line.tested_at), 0 if _is_single(t) else 1)
            for t, v, line in changes
        ],
    )
    session.execute(
        text(
            "UPDATE testing_tubes SET result = s.result, result_version = s.version,"
            " resulted_at = s.resulted_at FROM testing_results_apply s WHERE testing_tubes.id = s.tube_id"
        )
    )
    report.tubes_resulted += len(changes)
    # The orders sampled into these tubes: resulted; open again for a new sample when the tube could not
    # be read. Orders are sampled into single tubes only (orders.record_sample and recall.record_retest
    # take orders.single_tube; the scanner links no order), so only single tubes are joined with their
    # members: a pooled tube's members are never read here (a round's million tubes would read all its
    # ten million bindings to find none). A positive pool would say nothing yet of each member anyway.
    session.execute(
        text(
            "UPDATE testing_orders"
            " SET state = CASE WHEN x.result = 'invalid' THEN 'open' ELSE 'resulted' END,"
            " result = x.result, resulted_at = x.resulted_at, updated_at = :stamp"
            " FROM (SELECT m.order_id, s.result, s.resulted_at FROM testing_tube_members m"
            " JOIN testing_results_apply s ON s.tube_id = m.tube_id"
            " WHERE s.pooled = 0 AND m.order_id IS NOT NULL) AS x"
            " WHERE testing_orders.id = x.order_id"
        ).bindparams(bindparam("stamp", type_=Instant())),
        {"stamp": stamp},
    )
    # Single-tube retests of recalled members.
    session.execute(
        text(
            "UPDATE testing_recalls SET state = 'retested', result = s.result FROM testing_results_apply s"
            " WHERE testing_recalls.retest_barcode = s.barcode AND s.result <> 'invalid'"
        )
    )
    newly = [
        (tube, line)
        for tube, _version, line in changes
        if line.result is TestResult.positive and tube.result is not TestResult.positive
    ]
    ids = [tube.id for tube, _line in newly]
    members: dict[int, list[_Member]] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        rows = session.execute(
            select(
                TubeMember.tube_id,
                TubeMember.person_id,
                TubeMember.jpath,
                TubeMember.order_id,
                TubeMember.scanned_at,
            )
            .where(TubeMember.tube_id.in_(ids[start : start + LOOKUP_BATCH]))
            .order_by(TubeMember.id)
        )
        for row in rows:
            members.setdefault(row.tube_id, []).append(_Member(*row))
    retests = _retests(session, [tube.barcode for tube, _line in newly if _is_single(tube)])

    positives: list[PersonTestedPositive] = []
    positive_pools: list[tuple[_TubeRow, ResultLine]] = []
    for tube, line in newly:
        if not _is_single(tube):
            positive_pools.append((tube, line))
            continue
        recall = retests.get(tube.barcode)
        for member in members.get(tube.id, [])[:1]:
            origin = (
                f"recall:{recall}"
                if recall is not None
                else f"order:{member.order_id}"
                if member.order_id is not None
                else f"tube:{tube.barcode}"
            )
            positives.append(
                PersonTestedPositive(
                    person_id=member.person_id,
                    jpath=member.jpath,
                    sampled_on=local_day(member.scanned_at),
                    resulted_at=as_utc(line.tested_at),
                    barcode=tube.barcode,
                    origin=origin,
                    min_ct=line.min_ct,
                )
            )
    # Objects this session holds show what the rows say now.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Tube | TestOrder | Recall):
            session.expire(obj)
    if positive_pools:
        _recall_members(session, bus, positive_pools, members, report, stamp)
    report.positive_people += len(positives)
    for event in positives:
        bus.publish(session, event)


def _retests(session: Session, barcodes: Sequence[str]) -> dict[str, int]:
    """The recall each of these barcodes is the single-tube retest of."""
    found: dict[str, int] = {}
    for start in range(0, len(barcodes), LOOKUP_BATCH):
        rows = session.execute(
            select(Recall.retest_barcode, Recall.id).where(
                Recall.retest_barcode.in_(barcodes[start : start + LOOKUP_BATCH])
            )
        )
        for barcode, recall_id in rows:
            if barcode is not None:
                found[barcode] = recall_id
    return found


def _recall_members(
    session: Session,
    bus: EventBus,
    pools: Sequence[tuple[_TubeRow, ResultLine]],
    members: Mapping[int, Sequence[_Member]],
    report: LoadReport,
    stamp: dt.datetime,
) -> None:
    """Flag every member of each positive pool, place them under the temporary measure, tell others."""
    tube_ids = [tube.id for tube, _line in pools]
    already = {
        (row.tube_id, row.person_id)
        for start in range(0, len(tube_ids), LOOKUP_BATCH)
        for row in session.execute(
            select(Recall.tube_id, Recall.person_id).where(
                Recall.tube_id.in_(tube_ids[start : start + LOOKUP_BATCH])
            )
        )
    }
    deadline = stamp + dt.timedelta(hours=RECALL_DEADLINE_HOURS)
    new = [
        (m.tube_id, m.person_id, m.jpath, RecallState.flagged.value, stamp, deadline, None, None, None)
        for tube, _line in pools
        for m in members.get(tube.id, [])
        if (m.tube_id, m.person_id) not in already
    ]
    write_rows(session, _RECALLS, RECALL_COLUMNS, new)
    report.recalled += len(new)
    report.positive_pools += len(pools)
    flagged: list[tuple[int, int, int, str]] = []
    for start in range(0, len(tube_ids), LOOKUP_BATCH):
        rows = session.execute(
            select(Recall.id, Recall.tube_id, Recall.person_id, Recall.jpath).where(
                Recall.tube_id.in_(tube_ids[start : start + LOOKUP_BATCH])
            )
        )
        flagged.extend((r.id, r.tube_id, r.person_id, r.jpath) for r in rows)
    sampled_on = {(m.tube_id, m.person_id): local_day(m.scanned_at) for ms in members.values() for m in ms}
    fresh = [r for r in flagged if (r[1], r[2]) not in already]
    protocols = protocol_ids_in_force(session, {jpath for *_rest, jpath in fresh})
    defines = {
        pid: POOL_MEMBER_CATEGORY in get_protocol(session, pid).categories for pid in set(protocols.values())
    }
    placements = tuple(
        PersonPlacedUnderManagement(
            person_id=person_id,
            jpath=jpath,
            category=POOL_MEMBER_CATEGORY,
            # The pooled sampling day is the last day they could have been exposed (to the positive
            # person, in the queue or in the tube's household).
            clock_date=sampled_on[(tube_id, person_id)],
            source=f"recall:{recall_id}",
            clock_event="last_exposure",
        )
        for recall_id, tube_id, person_id, jpath in sorted(fresh)
        # A protocol in force without the temporary measure (no regional testing) only flags them.
        if defines[protocols[jpath]]
    )
    if placements:
        bus.publish(session, PeoplePlacedUnderManagement(placements))
    for tube, line in pools:
        bus.publish(
            session,
            PoolFoundPositive(
                tube_id=tube.id,
                barcode=tube.barcode,
                jpath=tube.jpath,
                members=len(members.get(tube.id, [])),
                resulted_at=as_utc(line.tested_at),
            ),
        )


def apply_result(
    session: Session, line: ResultLine, *, origin: str, bus: EventBus | None = None
) -> LoadReport:
    """Load one result entered by hand (a retest read on the spot): the same path a file's rows take.

    Does not commit: the caller's unit of work does.
    """
    report = LoadReport(origin=origin)
    report.rows = 1
    _check_versions(session, [line])
    _load_chunk(session, bus or bus_of(session), [line], report, None, origin)
    return report
