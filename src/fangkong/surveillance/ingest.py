"""Reading and checking observations from an upload (CSV or Excel), the API or a pull. Pure; no database.

A batch is a list of records ``channel, jurisdiction, date, value``. Every record is checked and every
problem is reported with its row and field (rows of a file count the header as row 1, as spreadsheets
do; records sent as JSON are numbered from 1); a batch with any problem is refused whole. Weekly
channels file a value under the Monday of its ISO week, so any date of the week may be given.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fangkong.core.csvtext import read_csv_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.core.scope import path_in_scope
from fangkong.surveillance.models import Frequency
from fangkong.surveillance.rules import period_start

FIELDS = ("channel", "jurisdiction", "date", "value")

HEADER_ALIASES: dict[str, frozenset[str]] = {
    "channel": frozenset({"channel", "channel_code", "渠道", "监测渠道"}),
    "jurisdiction": frozenset(
        {"jurisdiction", "jurisdiction_code", "code", "地区编码", "区划代码", "行政区划代码"}
    ),
    "date": frozenset({"date", "period_start", "日期"}),
    "value": frozenset({"value", "count", "observed", "数值", "数量"}),
}

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""largest upload accepted, bytes (a year of daily values for every community of a province fits)."""

EARLIEST_DAY = dt.date(1900, 1, 1)
"""observations before this date are refused (a typo such as 0202 for 2022 would stretch every series)."""

MAX_ERRORS = 1_000
"""errors collected before checking stops (the user fixes the file and sends it again)."""


@dataclass(frozen=True)
class RawRecord:
    row: int
    channel: str
    jurisdiction: str
    date: object
    value: object


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    code: str
    frequency: Frequency
    report_level: Level


@dataclass(frozen=True)
class PlaceInfo:
    id: int
    code: str
    path: str
    level: Level


@dataclass(frozen=True)
class CleanRecord:
    row: int
    channel_id: int
    jurisdiction_id: int
    jpath: str
    period_start: dt.date
    value: float


def _canonical(name: object) -> str | None:
    text = str(name or "").strip().lower()
    for field, aliases in HEADER_ALIASES.items():
        if text in aliases:
            return field
    return None


class Records(list[RawRecord]):
    """Records read from a file, with each field's column as the file's header names it (渠道, date...)."""

    def __init__(self, records: list[RawRecord], columns: dict[str, str]) -> None:
        super().__init__(records)
        self.columns = columns

    def named(self, errors: list[RowError]) -> list[RowError]:
        """``errors`` with each field named by the column the file gave it."""
        return [e.renamed(self.columns[e.field]) if e.field in self.columns else e for e in errors]


def records_from_rows(
    header: Sequence[object], rows: Sequence[Sequence[object]], first_row: int = 2
) -> Records:
    """Records from a table whose first row was ``header``; ``first_row`` is the number of ``rows[0]``."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        field = _canonical(name)
        if field is not None and field not in positions:
            positions[field] = i
    missing = [f for f in FIELDS if f not in positions]
    if missing:
        raise InvalidInput(
            [
                RowError(
                    1,
                    f,
                    Message(
                        "column is missing from the header (accepted: {accepted})",
                        accepted=", ".join(sorted(HEADER_ALIASES[f])),
                    ),
                )
                for f in missing
            ],
            file=True,
        )
    records: list[RawRecord] = []
    for number, cells in enumerate(rows, start=first_row):
        if not any(str(c).strip() for c in cells if c is not None):
            continue

        def cell(field: str, cells: Sequence[object] = cells) -> object:
            at = positions[field]
            return cells[at] if at < len(cells) else None

        records.append(
            RawRecord(
                number,
                str(cell("channel") or "").strip(),
                str(cell("jurisdiction") or "").strip(),
                cell("date"),
                cell("value"),
            )
        )
    return Records(records, {f: str(header[i]).strip() for f, i in positions.items()})


def read_upload(filename: str, content: bytes) -> Records:
    """Records of an uploaded CSV (UTF-8, with or without BOM) or Excel (.xlsx) file."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            [RowError(1, "file", "is not UTF-8 text; save the CSV as UTF-8")], file=True
        ) from None
    table = read_csv_text(text)
    if not table:
        raise InvalidInput([RowError(1, "file", "the file is empty")], file=True)
    return records_from_rows(table[0], table[1:])


def _read_xlsx(content: bytes) -> Records:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or non-Excel file
        raise InvalidInput(
            [
                RowError(
                    1, "file", Message("cannot read the Excel file ({reason})", reason=type(exc).__name__)
                )
            ],
            file=True,
        ) from None
    sheet = book.worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    if not table:
        raise InvalidInput([RowError(1, "file", "the first sheet is empty")], file=True)
    return records_from_rows(table[0], table[1:])


def records_from_json(items: Sequence[Mapping[str, object]]) -> list[RawRecord]:
    """Records sent through the API, numbered from 1."""
    return [
        RawRecord(
            i,
            str(item.get("channel") or "").strip(),
            str(item.get("jurisdiction") or "").strip(),
            item.get("date"),
            item.get("value"),
        )
        for i, item in enumerate(items, start=1)
    ]


def _parse_date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    for candidate in (text, text.replace("/", "-")):
        try:
            return dt.date.fromisoformat(candidate[:10])
        except ValueError:
            continue
    return None


def _parse_value(raw: object) -> float | Message:
    """The number, or a message saying what is wrong with it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Message("is empty")
    if isinstance(raw, bool):
        return Message("“{value}” is not a number", value=str(raw))
    try:
        value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except (ValueError, OverflowError):
        return Message("“{value}” is not a number", value=str(raw)[:40])
    if not math.isfinite(value):
        return Message("“{value}” is not a finite number", value=str(raw))
    if value < 0:
        return Message("{value} is negative", value=str(raw))
    return value


def validate(
    records: Sequence[RawRecord],
    channels: Mapping[str, ChannelInfo],
    places: Mapping[str, PlaceInfo],
    scope_path: str,
    today: dt.date,
) -> list[CleanRecord]:
    """Checked records, or InvalidInput naming every bad row and field (nothing is half accepted).

    ``channels`` holds the channels the caller may report to, ``places`` the jurisdictions named in the
    batch (any scope); a jurisdiction outside ``scope_path`` reads as not found.
    """
    errors: list[RowError] = []
    clean: list[CleanRecord] = []
    seen: dict[tuple[int, int, dt.date], int] = {}
    if not records:
        raise InvalidInput([RowError(1, "*", "no observations were sent")])
    for r in records:
        if len(errors) >= MAX_ERRORS:
            break
        row_errors: list[RowError] = []
        channel = channels.get(r.channel)
        if not r.channel:
            row_errors.append(RowError(r.row, "channel", "is empty"))
        elif channel is None:
            row_errors.append(
                RowError(r.row, "channel", Message("unknown or inactive channel “{value}”", value=r.channel))
            )
        place = places.get(r.jurisdiction)
        if not r.jurisdiction:
            row_errors.append(RowError(r.row, "jurisdiction", "is empty"))
        elif place is None or not path_in_scope(place.path, scope_path):
            row_errors.append(
                RowError(
                    r.row, "jurisdiction", Message("jurisdiction “{value}” not found", value=r.jurisdiction)
                )
            )
            place = None
        if channel is not None and place is not None and place.level is not channel.report_level:
            row_errors.append(
                RowError(
                    r.row,
                    "jurisdiction",
                    Message(
                        "channel {channel} is reported by {reported}; {code} is a {level}",
                        channel=channel.code,
                        reported=Message(channel.report_level.value),
                        code=place.code,
                        level=Message(place.level.value),
                    ),
                )
            )
        day = _parse_date(r.date)
        if day is None:
            row_errors.append(
                RowError(
                    r.row,
                    "date",
                    Message("“{value}” is not a date (write it as 2022-07-01)", value=str(r.date)),
                )
            )
        elif day > today:
            row_errors.append(RowError(r.row, "date", Message("{value} is in the future", value=day)))
        elif day < EARLIEST_DAY:
            row_errors.append(
                RowError(
                    r.row, "date", Message("{value} is before {earliest}", value=day, earliest=EARLIEST_DAY)
                )
            )
        value = _parse_value(r.value)
        if isinstance(value, Message):
            row_errors.append(RowError(r.row, "value", value))
        if row_errors or channel is None or place is None or day is None or isinstance(value, Message):
            errors.extend(row_errors)
            continue
        start = period_start(day, channel.frequency is Frequency.weekly)
        key = (channel.id, place.id, start)
        if key in seen:
            errors.append(
                RowError(
                    r.row,
                    "date",
                    Message(
                        "repeats row {row} ({channel}, {code}, period {start})",
                        row=seen[key],
                        channel=channel.code,
                        code=place.code,
                        start=start,
                    ),
                )
            )
            continue
        seen[key] = r.row
        clean.append(CleanRecord(r.row, channel.id, place.id, place.path, start, value))
    if errors:
        raise InvalidInput(errors)
    return clean
