"""Read the first sheet of an .xlsx file as rows of values, fast.

openpyxl's read-only reader builds a cell object per cell (~30 us each), which makes a 100,000-row
contact list cost tens of seconds before any checking starts. This reader streams the sheet's XML with
the C parser and keeps only values: shared and inline strings, numbers, booleans, and dates (numbers in a
date format, converted as Excel does). Templates and exports are still written with openpyxl, and
``spreadsheets`` falls back to openpyxl for a workbook this reader cannot follow.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, iterparse

Value = str | float | bool | dt.datetime | None

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show dates or times (ECMA-376 Part 1, 18.8.30; 27-36 and 50-58 are the
# East Asian date formats Chinese Excel uses).
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)


class UnreadableWorkbook(ValueError):
    """The file is not a workbook this reader follows (the caller falls back to openpyxl)."""


def _column(reference: str) -> int:
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        else:
            break
    return index - 1


def _text(element: Element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{_MAIN}t"))


def _first_sheet(book: zipfile.ZipFile) -> tuple[str, bool]:
    root = _parse(book, "xl/workbook.xml")
    pr = root.find(f"{_MAIN}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    sheet = root.find(f"{_MAIN}sheets/{_MAIN}sheet")
    if sheet is None:
        raise UnreadableWorkbook("the workbook has no sheet")
    rid = sheet.get(f"{_REL}id")
    for rel in _parse(book, "xl/_rels/workbook.xml.rels").iter(f"{_PACKAGE_REL}Relationship"):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return (target.lstrip("/") if target.startswith("/") else f"xl/{target}"), date1904
    raise UnreadableWorkbook("the first sheet's part is not found")


def _parse(book: zipfile.ZipFile, name: str) -> Element:
    from xml.etree.ElementTree import fromstring

    try:
        return fromstring(book.read(name))
    except KeyError:
        raise UnreadableWorkbook(f"{name} is missing") from None


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    return [_text(si) for si in _parse(book, "xl/sharedStrings.xml").iter(f"{_MAIN}si")]


def _date_styles(book: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of the cell styles whose number format shows a date."""
    if "xl/styles.xml" not in book.namelist():
        return frozenset()
    root = _parse(book, "xl/styles.xml")
    custom = {}
    for fmt in root.iter(f"{_MAIN}numFmt"):
        code = _QUOTED.sub("", fmt.get("formatCode", "")).lower()
        custom[int(fmt.get("numFmtId", "0"))] = any(c in code for c in "dmyh")
    xfs = root.find(f"{_MAIN}cellXfs")
    dates = set()
    for index, xf in enumerate(xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in _DATE_FORMAT_IDS or custom.get(fmt_id, False):
            dates.add(index)
    return frozenset(dates)


def read_rows(path: Path) -> Iterator[list[Value]]:
    """The first sheet's rows (each padded to its last non-empty cell), header row included."""
    try:
        book = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise UnreadableWorkbook(str(exc)) from None
    with book:
        sheet, date1904 = _first_sheet(book)
        shared = _shared_strings(book)
        dates = _date_styles(book)
        epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH
        row: list[Value] = []
        expected = 1
        with book.open(sheet) as stream:
            for _event, element in iterparse(stream, events=("end",)):
                tag = element.tag
                if tag == f"{_MAIN}c":
                    column = _column(element.get("r", "")) if element.get("r") else len(row)
                    if column > len(row):
                        row.extend([None] * (column - len(row)))
                    row.append(_value(element, shared, dates, epoch))
                    element.clear()
                elif tag == f"{_MAIN}row":
                    number = int(element.get("r", expected))
                    while expected < number:  # rows the writer left out are empty rows
                        yield []
                        expected += 1
                    yield row
                    row = []
                    expected = number + 1
                    element.clear()


def _value(cell: Element, shared: list[str], dates: frozenset[int], epoch: dt.datetime) -> Value:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return _text(inline) if inline is not None else ""
    v = cell.find(f"{_MAIN}v")
    raw = v.text if v is not None else None
    if raw is None:
        return None
    if kind == "s":
        return shared[int(raw)]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw == "1"
    if kind == "d":
        return dt.datetime.fromisoformat(raw)
    number = float(raw)
    if int(cell.get("s", "0")) in dates:
        # Serial days as a float: rounded to the millisecond, as Excel shows them.
        return epoch + dt.timedelta(milliseconds=round(number * 86_400_000))
    return number
