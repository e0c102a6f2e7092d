"""Reading a vaccination system's export of doses: the columns (Chinese or English headers, with the
aliases systems use), the header row, and the rows of a CSV (UTF-8 or GB18030) or Excel file in chunks,
numbered as a spreadsheet shows them. The blank template is written from the same columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePath
from typing import Literal

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.workbooks import open_first_sheet
from fangkong.vaccination.service.doses_batch import Cell, cell_text

CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", True, ("身份证号码", "证件号码", "身份证", "id number", "id")),
    Column("product", "疫苗名称", True, ("产品", "产品名称", "疫苗", "疫苗产品", "vaccine", "vaccine name")),
    Column("platform", "技术路线", False, ("平台", "疫苗类型", "疫苗种类", "technology")),
    Column("dose_number", "剂次", True, ("接种剂次", "针次", "dose", "dose number")),
    Column("kind", "接种类型", True, ("免疫类型", "接种类别", "剂次类型", "dose kind", "type")),
    Column("given_on", "接种日期", True, ("接种时间", "date", "vaccination date", "given on")),
    Column("site", "接种单位", True, ("接种点", "接种门诊", "接种地点", "vaccination site")),
    Column("lot", "批号", True, ("疫苗批号", "生产批号", "batch", "lot number")),
)
_BY_NAME = {c.name: c for c in COLUMNS}
ALIASES: dict[str, str] = {
    alias.lower(): c.name for c in COLUMNS for alias in (c.name, c.zh, c.name.replace("_", " "), *c.aliases)
}

# ------------------------------------------------------------------------------------------ header


@dataclass
class Header:
    """Where each field is in the file and how the file's header wrote it."""

    positions: dict[str, int]
    written: dict[str, str]
    ignored: list[str] = field(default_factory=list)

    def named(self, errors: list[RowError]) -> list[RowError]:
        """``errors`` with each column named as this file names it."""
        return [e.renamed(self.written[e.field]) if e.field in self.written else e for e in errors]


def canonical(header: str) -> str | None:
    return ALIASES.get(header.strip().lstrip("\ufeff").lower())


def read_header(cells: Sequence[Cell]) -> Header:
    """Match the header row to the fields; a required column missing or a column given twice is an error."""
    written_header = [cell_text(c).lstrip("\ufeff") for c in cells]
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for at, shown in enumerate(written_header):
        name = canonical(shown)
        if name is None:
            if shown:
                ignored.append(shown)
            continue
        if name in positions:
            errors.append(
                RowError(1, shown, Message("names the same column as “{other}”", other=written[name]))
            )
            continue
        positions[name] = at
        written[name] = shown
    # A missing column is named in the language the file's header is written in.
    chinese = any(not h.isascii() for h in written_header)
    errors.extend(
        RowError(1, c.zh if chinese else c.name, "column is missing from the header")
        for c in COLUMNS
        if c.required and c.name not in positions
    )
    if errors:
        raise InvalidInput(errors, file=True)
    return Header(positions, written, ignored)


# ------------------------------------------------------------------------------------------ reading


def _encoding(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) when the start of the file reads as UTF-8, else GB18030
    (what Chinese Excel saves CSV as)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[: 1 << 16], final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


Chunk = tuple[list[int], list[Sequence[Cell]]]


def _csv_take(data: bytes) -> Callable[[int], list[Sequence[Cell]]]:
    """A reader of the CSV's next ``n`` rows (parsed in C, whole chunks at a time)."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data), newline=""))

    def take(n: int) -> list[Sequence[Cell]]:
        try:
            return list(itertools.islice(reader, n))
        except csv.Error as exc:
            message = Message("not readable as CSV: {reason}", reason=str(exc))
            raise InvalidInput([RowError(reader.line_num or 1, "*", message)], file=True) from None
        except UnicodeDecodeError:
            raise InvalidInput(
                [RowError(reader.line_num + 1, "*", "not UTF-8 text; save the file as UTF-8 CSV")], file=True
            ) from None

    return take


def _xlsx_take(data: bytes, filename: str) -> Callable[[int], list[Sequence[Cell]]]:
    sheet = open_first_sheet(data, filename)

    def take(n: int) -> list[Sequence[Cell]]:
        rows: list[Sequence[Cell]] = list(itertools.islice(sheet.rows, n))
        if len(rows) < n:
            sheet.close()
        return rows

    return take


def is_excel(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in (".xlsx", ".xlsm")


def _filled_cell(cell: Cell) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def read_rows(data: bytes, filename: str) -> tuple[Header, Iterator[Chunk]]:
    """The file's header and its non-blank rows in chunks: (row numbers as a spreadsheet shows them,
    the header being row 1; the rows' cells)."""
    suffix = PurePath(filename).suffix.lower()
    excel = is_excel(filename)
    if excel:
        take = _xlsx_take(data, filename)
    elif suffix in (".csv", ".txt", ""):
        take = _csv_take(data)
    else:
        raise InvalidInput(
            [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=filename))], file=True
        )
    first = take(1)
    if not first:
        raise InvalidInput([RowError(1, "*", "the file is empty")], file=True)
    header = read_header(first[0])

    def chunks() -> Iterator[Chunk]:
        number = 2
        while batch := take(CHUNK_ROWS):
            numbers = list(range(number, number + len(batch)))
            number += len(batch)
            if excel:
                filled = [any(map(_filled_cell, cells)) for cells in batch]
            else:
                # CSV cells are all text: a blank row is one whose stripped cells are all empty (in C).
                filled = list(map(any, map(partial(map, str.strip), batch)))
            if not all(filled):
                numbers = list(itertools.compress(numbers, filled))
                batch = list(itertools.compress(batch, filled))
            if batch:
                yield numbers, batch

    return header, chunks()


def template_csv(language: Literal["zh", "en"]) -> bytes:
    """A blank import template: the header row, with a byte-order mark so Excel opens it as UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([c.zh if language == "zh" else c.name for c in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
