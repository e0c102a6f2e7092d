"""Reading the first sheet of an uploaded Excel workbook: one place that opens it and turns openpyxl's
many errors into one row error.

openpyxl raises a dozen types for a damaged, encrypted or mislabelled file (``InvalidFileException``,
``BadZipFile``, ``KeyError`` for a missing part...); the user needs one message naming the file. Sheets are
read in openpyxl's read-only mode (rows streamed from the XML, not the whole workbook in memory) with the
cached values of formulas (``data_only``), and the workbook is closed when its rows are done.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message

# What a cell holds once read with data_only: text, a number, a truth value, a date or time, or nothing.
Cell = str | int | float | bool | dt.datetime | dt.date | None


@dataclass
class FirstSheet:
    """The rows of a workbook's first sheet, as tuples of cell values; ``close`` releases the file."""

    rows: Iterator[tuple[Cell, ...]]
    _book: Any

    def close(self) -> None:
        self._book.close()


def open_first_sheet(source: Path | bytes, name: str) -> FirstSheet:
    """Open ``source`` (a path, or the upload's bytes) named ``name`` to the user. ``InvalidInput`` on row 1
    when it is not a workbook openpyxl can read."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True,
                             data_only=True)  # fmt: skip
    except Exception as exc:  # openpyxl raises many types for a damaged file; the user needs one message
        message = Message(
            "{name} is not a readable Excel file ({reason})", name=name, reason=type(exc).__name__
        )
        raise InvalidInput([RowError(1, "*", message)], file=True) from None
    return FirstSheet(book.worksheets[0].iter_rows(values_only=True), book)


def read_first_sheet(source: Path | bytes, name: str, *, limit: int | None = None) -> list[list[Cell]]:
    """Every row of the first sheet (at most ``limit``, so that an import can say a file is too long
    without reading all of it), the workbook closed."""
    sheet = open_first_sheet(source, name)
    try:
        return [list(values) for values in itertools.islice(sheet.rows, limit)]
    finally:
        sheet.close()
