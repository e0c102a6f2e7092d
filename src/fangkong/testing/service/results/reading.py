"""Reading a lab's results: a CSV or Excel file, or an HL7 FHIR R4 bundle, checked row by row.

Every row is checked before anything is written: a bad row (a missing barcode, a result that is no
result, a Ct that is no number, a time in the future) refuses the whole file, every problem named by its
row and its column as the file wrote it. A checked file becomes :class:`CheckedRows`, one tuple per row
as the load stages it, with the row's digest: the identity that makes a reload write nothing.

A round's file has a row per tube (a million for a city), so the rows are checked in one loop over the
csv module's rows: the columns found once from the header, each distinct time text parsed once (a lab's
file repeats a few run times), the digest's JSON written directly and no object made per row. The
per-row dataclasses and generic cell handling this replaced cost about 45 µs a row, more than writing the
row to PostgreSQL. Excel cells are turned into the text a CSV would hold and take the same loop.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fangkong.core.clock import as_utc, from_local, utcnow
from fangkong.core.csvtext import decode_text, read_csv_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.workbooks import Cell, read_first_sheet
from fangkong.testing import fhir_results
from fangkong.testing.models import TestResult

# Largest believable Ct, cycles: SARS-CoV-2 RT-PCR kits run 40 to 45 cycles (as fhir_results.MAX_CT).
MAX_CT = fhir_results.MAX_CT
# A result time up to this far ahead of the server's clock is a lab clock running fast, not a typo.
CLOCK_SKEW = dt.timedelta(minutes=10)

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


# A checked row as a load stages it: (row, barcode, result, Ct values as JSON, smallest Ct, result time as
# aware UTC, version or None, digest, repeat). ``repeat`` is 1 when an earlier row of the same load says
# the same of the same tube (two versions the file numbers, alike): it is already loaded by then.
StagedRow = tuple[int, str, str, str, float | None, dt.datetime, int | None, str, int]


@dataclass(frozen=True)
class CheckedRows:
    """The rows of a load, checked, and the names its reports give the barcode and version columns."""

    rows: list[StagedRow]
    barcode_column: Callable[[int], str]
    version_column: Callable[[int], str]


@dataclass(frozen=True)
class ResultLine:
    """One tube's result as the lab reported it (a FHIR Observation, a retest entered by hand)."""

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
        when = _json_text(as_utc(self.tested_at).isoformat())
        return _digest(self.barcode, _ct_digest_text(self.ct_values), _RESULT_JSON[self.result], when)

    @property
    def min_ct(self) -> float | None:
        return min(self.ct_values.values()) if self.ct_values else None


_json_text = json.encoder.encode_basestring_ascii  # the C encoder json.dumps writes strings with
_RESULT_JSON = {result: _json_text(result.value) for result in TestResult}


def _ct_digest_text(ct_values: Mapping[str, float]) -> str:
    return ", ".join(f"{_json_text(gene)}: {round(value, 2)!r}" for gene, value in sorted(ct_values.items()))


def _digest(barcode: str, ct: str, result_json: str, time_json: str) -> str:
    """The digest of a row: SHA-256 of exactly ``json.dumps({"barcode": ..., "ct": {gene: round(ct, 2)},
    "result": ..., "tested_at": ...}, sort_keys=True)`` (digests stored before read the same)."""
    content = (
        f'{{"barcode": {_json_text(barcode)}, "ct": {{{ct}}}, "result": {result_json},'
        f' "tested_at": {time_json}}}'
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _ct_json(ct_values: Mapping[str, float]) -> str:
    """Ct values as stored: ``json.dumps(dict(ct_values), ensure_ascii=False)``, ``{}`` for none."""
    return json.dumps(dict(ct_values), ensure_ascii=False) if ct_values else "{}"


def staged_rows(lines: Sequence[ResultLine]) -> CheckedRows:
    """Lines (a FHIR bundle's, a retest's) as the rows a load stages."""
    rows: list[StagedRow] = []
    said: dict[str, set[str]] = {}
    for line in lines:
        digest = line.digest
        earlier = said.setdefault(line.barcode, set())
        rows.append(
            (
                line.row, line.barcode, line.result.value, _ct_json(line.ct_values), line.min_ct,
                as_utc(line.tested_at), line.version, digest, 1 if digest in earlier else 0,
            )
        )  # fmt: skip
        earlier.add(digest)
    barcode_columns = {line.row: line.barcode_column for line in lines}
    version_columns = {line.row: line.version_column for line in lines}
    return CheckedRows(rows, barcode_columns.__getitem__, version_columns.__getitem__)


# ------------------------------------------------------------------------------------------ files


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


def read_file(path: Path, data: bytes | None = None) -> CheckedRows:
    """Read and check a results file (CSV or Excel; ``data``: its bytes when already read)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return check_rows([[_text(v) for v in row] for row in _read_xlsx(path)])
    if suffix in (".csv", ".txt"):
        return check_rows(_csv_records(decode_text(path.read_bytes() if data is None else data)))
    raise InvalidInput(
        [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=path.name))], file=True
    )


def _csv_records(text: str) -> list[list[str]]:
    """The records of CSV text. Read by the csv module in one call: ``read_csv_text`` checks each record
    as it comes (a fifth of a second for a million-tube file); it is called only for a file the csv module
    refuses, to name the unreadable line as every import does."""
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return read_csv_text(text)


def _read_xlsx(path: Path) -> list[list[Cell]]:
    return read_first_sheet(path, path.name)


def _parse_time(value: str) -> dt.datetime | None:
    """A result time written as text; without a zone it is the deployment's local time."""
    text = value.strip().replace("/", "-")
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) <= 10:
        return None  # a date alone is no result time
    return as_utc(moment) if moment.tzinfo is not None else from_local(moment)


# A time text, read: (instant, its JSON text for the digest, the problem with it or None).
_Time = tuple[dt.datetime | None, str, str | Message | None]


def _read_time(value: str, latest: dt.datetime) -> _Time:
    if not value.strip():
        return None, "", "is required"
    moment = _parse_time(value)
    if moment is None:
        return None, "", Message("“{value}” is not a date and time", value=value.strip())
    if moment > latest:
        return None, "", "is in the future"
    return moment, _json_text(moment.isoformat()), None


def parse_rows(rows: Sequence[Sequence[Cell]]) -> list[ResultLine]:
    """Check every row of a results table (header first) into lines; ``InvalidInput`` names every problem."""
    checked = check_rows([[_text(v) for v in row] for row in rows])
    return [
        ResultLine(
            row, barcode, TestResult(result), json.loads(ct), tested_at, version,
            checked.barcode_column(row), checked.version_column(row),
        )
        for row, barcode, result, ct, _min_ct, tested_at, version, _digest, _repeat in checked.rows
    ]  # fmt: skip


def check_rows(records: Iterable[list[str]]) -> CheckedRows:
    """Check every row of a results table of text cells (header first); ``InvalidInput`` names every
    problem, in row order and, within a row, column by column as the template orders them."""
    rows = iter(records)
    first = next(rows, None)
    if first is None:
        raise InvalidInput([RowError(1, "*", "the file is empty")], file=True)
    written = [h.strip().lstrip("\ufeff") for h in first]
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
    where = {name: i for i, name in enumerate(header) if name}
    staged = _check_body(rows, where, shown, errors)
    if errors:
        raise InvalidInput(sorted(errors, key=lambda e: e.row), file=True)
    barcode_column = shown.get("barcode", "barcode")
    version_column = shown.get("version", "version")
    return CheckedRows(staged, lambda _row: barcode_column, lambda _row: version_column)


def _check_body(
    rows: Iterator[list[str]], where: Mapping[str, int], shown: Mapping[str, str], errors: list[RowError]
) -> list[StagedRow]:
    """The rows under the header, checked (problems appended to ``errors``)."""
    width = max(where.values()) + 1
    at_barcode, at_result, at_time = where["barcode"], where["result"], where["tested_at"]
    at_version = where.get("version")
    ct_columns = [(column, gene, where[column]) for column, gene in GENES.items() if column in where]
    latest = utcnow() + CLOCK_SKEW
    times: dict[str, _Time] = {}
    # Rows already read, by barcode and version (None: no version given).
    seen: dict[str, dict[int | None, int]] = {}
    repeated: set[str] = set()
    staged: list[StagedRow] = []
    digest = _digest

    def add(row: int, name: str, message: str | Message) -> None:
        errors.append(RowError(row, shown.get(name, name), message))

    for number, values in enumerate(rows, start=2):
        if len(values) < width:
            values = [*values, *[""] * (width - len(values))]
        barcode = values[at_barcode].strip()
        if not barcode and not "".join(values).strip():
            continue  # a blank row
        if not barcode:
            add(number, "barcode", "is required")
        elif len(barcode) > 40:
            add(number, "barcode", Message("longer than {limit} characters", limit=40))
        word = values[at_result].strip().lower()
        result = RESULT_WORDS.get(word)
        if result is None:
            if not word:
                add(number, "result", "is required")
            else:
                add(
                    number,
                    "result",
                    Message(
                        "“{value}” is not a result: use 阳性/阴性/无效 or positive/negative/invalid",
                        value=word,
                    ),
                )
        ct_values: dict[str, float] | None = None
        for column, gene, at in ct_columns:
            raw = values[at].strip()
            if not raw or raw.lower() in NO_CT:
                continue
            try:
                ct = float(raw)
            except ValueError:
                add(number, column, Message("“{value}” is not a number", value=raw))
                continue
            if not (math.isfinite(ct) and 0 < ct <= MAX_CT):
                add(
                    number,
                    column,
                    Message("Ct {value} is not between 0 and {most} cycles", value=raw, most=MAX_CT),
                )
                continue
            if ct_values is None:
                ct_values = {}
            ct_values[gene] = ct
        raw_time = values[at_time]
        read = times.get(raw_time)
        if read is None:
            read = times[raw_time] = _read_time(raw_time, latest)
        tested_at, time_json, problem = read
        if problem is not None:
            add(number, "tested_at", problem)
        version: int | None = None
        if at_version is not None:
            raw_version = values[at_version].strip()
            if raw_version:
                if raw_version.isdigit() and int(raw_version) >= 1:
                    version = int(raw_version)
                else:
                    add(
                        number,
                        "version",
                        Message("“{value}” is not a version number (1, 2, ...)", value=raw_version),
                    )
        if barcode:
            # Two rows for one tube are two versions, each named: otherwise which one stands is a guess.
            earlier = seen.get(barcode)
            if earlier is None:
                seen[barcode] = {version: number}
            else:
                clash = earlier.get(version) if version in earlier else earlier.get(None)
                if clash is None and version is None and earlier:
                    clash = min(earlier.values())
                if clash is not None:
                    add(
                        number,
                        "barcode",
                        Message("tube {barcode} is already in row {other}", barcode=barcode, other=clash),
                    )
                else:
                    earlier[version] = number
                    repeated.add(barcode)
        if errors or result is None or tested_at is None:
            continue  # the file is refused: its rows need not be made
        if ct_values is None:
            staged.append(
                (number, barcode, result.value, "{}", None, tested_at, version,
                 digest(barcode, "", _RESULT_JSON[result], time_json), 0)
            )  # fmt: skip
        else:
            staged.append(
                (number, barcode, result.value, _ct_json(ct_values), min(ct_values.values()), tested_at,
                 version, digest(barcode, _ct_digest_text(ct_values), _RESULT_JSON[result], time_json), 0)
            )  # fmt: skip
    if repeated and not errors:
        staged = _mark_repeats(staged, repeated)
    return staged


def _mark_repeats(staged: list[StagedRow], barcodes: set[str]) -> list[StagedRow]:
    """Mark the rows that say what an earlier row of the same tube said (see ``StagedRow``)."""
    said: dict[str, set[str]] = {}
    marked: list[StagedRow] = []
    for row in staged:
        if row[1] in barcodes:
            earlier = said.setdefault(row[1], set())
            if row[7] in earlier:
                row = (*row[:8], 1)
            earlier.add(row[7])
        marked.append(row)
    return marked


# ------------------------------------------------------------------------------------------ FHIR


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
