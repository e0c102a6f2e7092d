"""Rooms of a site from an Excel or CSV file: a template, a dry run, every bad row named, all or nothing.

The header may be written in Chinese (房间号, 楼层, 通风分区, 房型, 床位) or English (number, floor,
zone, kind, beds, and a few aliases such as "room number"); row numbers count the header as row 1, as a
spreadsheet shows them, and every error names its column the way the file's header wrote it. Every row is
checked before anything is written, duplicate room numbers (within the file or against the site's
rooms) included; one bad row and nothing is written. A dry run checks everything and writes nothing.

A site has hundreds of rooms, not hundreds of thousands: the file is read whole with openpyxl (or the csv
module) and written with one multi-row INSERT.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.csvtext import decode_text, read_csv_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.workbooks import Cell, read_first_sheet
from fangkong.quarantine.models import RoomKind
from fangkong.quarantine.service.sites import (
    MAX_BEDS,
    RoomInput,
    _open_for_rooms,
    actor,
    existing_numbers,
    get_site,
    insert_rooms,
)

MAX_ERRORS = 1_000
MAX_ROWS = 20_000


@dataclass(frozen=True)
class RoomColumn:
    name: str
    zh: str
    required: bool
    help_en: str
    help_zh: str
    example: str


COLUMNS = (
    RoomColumn(
        "number", "房间号", True, "Room number, unique in the site", "房间号，同一隔离点内不重复", "301"
    ),
    RoomColumn("floor", "楼层", False, "Floor", "所在楼层", "3"),
    RoomColumn(
        "zone",
        "通风分区",
        False,
        "Ventilation zone: rooms sharing one air handling",
        "通风分区：共用同一新风/空调系统的房间",
        "A",
    ),
    RoomColumn(
        "kind",
        "房型",
        True,
        "single / family / accessible (or 单人间 / 家庭房 / 无障碍间)",
        "单人间/家庭房/无障碍间",
        "单人间",
    ),
    RoomColumn(
        "beds",
        "床位",
        False,
        "Number of beds; blank means 1 for a single room",
        "床位数；单人间可不填（按1张）",
        "1",
    ),
)

# Other ways files name the columns, in both languages.
_ALIASES = {
    "房号": "number",
    "房间编号": "number",
    "room": "number",
    "room number": "number",
    "room_number": "number",
    "room no": "number",
    "room no.": "number",
    "所在楼层": "floor",
    "层": "floor",
    "floor": "floor",
    "分区": "zone",
    "通风区": "zone",
    "ventilation zone": "zone",
    "ventilation_zone": "zone",
    "房间类型": "kind",
    "房型类别": "kind",
    "type": "kind",
    "room type": "kind",
    "room_type": "kind",
    "床位数": "beds",
    "床数": "beds",
    "bed count": "beds",
    "bed": "beds",
}
ALIASES = {**{c.name: c.name for c in COLUMNS}, **{c.zh: c.name for c in COLUMNS}, **_ALIASES}

_KIND_WORDS = {
    "single": RoomKind.single,
    "单人间": RoomKind.single,
    "单间": RoomKind.single,
    "单人": RoomKind.single,
    "family": RoomKind.family,
    "家庭房": RoomKind.family,
    "家庭间": RoomKind.family,
    "多人间": RoomKind.family,
    "家庭": RoomKind.family,
    "accessible": RoomKind.accessible,
    "无障碍间": RoomKind.accessible,
    "无障碍房": RoomKind.accessible,
    "无障碍": RoomKind.accessible,
}


def _as_written(header: object) -> str:
    return str(header if header is not None else "").strip().lstrip("\ufeff")


def _canonical(header: str) -> str:
    return ALIASES.get(header, ALIASES.get(header.lower(), ""))


def _text(value: Cell) -> str:
    """A cell as text; Excel's whole numbers lose their '.0' (room 301 typed in a number cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


# -------------------------------------------------------------------------------------------- reading


def _read(path: Path) -> list[list[Cell]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise InvalidInput(
        [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=path.name))], file=True
    )


def _read_csv(path: Path) -> list[list[Cell]]:
    return [list(row) for row in read_csv_text(decode_text(path.read_bytes()))]


def _read_xlsx(path: Path) -> list[list[Cell]]:
    # One row past the limit and the header: enough to say the file is too long.
    return read_first_sheet(path, path.name, limit=MAX_ROWS + 2)


# ------------------------------------------------------------------------------------------- checking


@dataclass
class RoomImportReport:
    site_id: int
    site_name: str
    rows: int = 0
    dry_run: bool = False
    added: int = 0
    beds: int = 0
    by_kind: dict[RoomKind, int] = field(default_factory=dict)
    floors: int = 0
    zones: int = 0


def parse_rooms(rows: list[list[Cell]], taken: set[str]) -> list[RoomInput]:
    """Every room of the file, or InvalidInput naming each bad row and column as the file names them."""
    if not rows or not any(_as_written(h) for h in rows[0]):
        raise InvalidInput([RowError(1, "*", "the file is empty")], file=True)
    written = [_as_written(h) for h in rows[0]]
    while written and not written[-1]:
        written.pop()
    header = [_canonical(h) for h in written]
    chinese = any(not h.isascii() for h in written)
    errors: list[RowError] = []
    for column in COLUMNS:
        if column.required and column.name not in header:
            errors.append(
                RowError(1, column.zh if chinese else column.name, "column is missing from the header")
            )
    for shown, name in zip(written, header, strict=True):
        if shown and not name:
            errors.append(RowError(1, shown, "is not a column of the room template"))
    repeated = [n for n, count in Counter(h for h in header if h).items() if count > 1]
    for name in repeated:
        same = [w for w, h in zip(written, header, strict=True) if h == name]
        errors.append(RowError(1, same[-1], Message("names the same column as {other}", other=same[0])))
    if errors:
        raise InvalidInput(errors, file=True)
    index = {name: i for i, name in enumerate(header) if name}
    label = {name: written[i] for name, i in index.items()}

    def cell(values: list[Cell], name: str) -> str:
        i = index.get(name)
        return _text(values[i]) if i is not None and i < len(values) else ""

    rooms: list[RoomInput] = []
    seen: dict[str, int] = {}
    data_rows = [(n, values) for n, values in enumerate(rows[1:], start=2) if any(_text(v) for v in values)]
    if len(data_rows) > MAX_ROWS:
        raise InvalidInput(
            [RowError(MAX_ROWS + 2, "*", Message("at most {n} rooms in one file", n=MAX_ROWS))], file=True
        )
    for number, values in data_rows:
        row_errors: list[RowError] = []
        room_number = cell(values, "number")
        if not room_number:
            row_errors.append(RowError(number, label["number"], "a room needs a number"))
        elif len(room_number) > 20:
            row_errors.append(RowError(number, label["number"], Message("at most {n} characters", n=20)))
        elif room_number in taken:
            row_errors.append(
                RowError(
                    number,
                    label["number"],
                    Message("room {number} already exists in this site", number=room_number),
                )
            )
        elif room_number in seen:
            row_errors.append(
                RowError(
                    number,
                    label["number"],
                    Message(
                        "room {number} is given twice (also row {other})",
                        number=room_number,
                        other=seen[room_number],
                    ),
                )
            )
        if room_number:
            seen.setdefault(room_number, number)
        kind_text = cell(values, "kind")
        kind = _KIND_WORDS.get(kind_text, _KIND_WORDS.get(kind_text.lower()))
        if kind is None:
            row_errors.append(
                RowError(
                    number,
                    label["kind"],
                    Message("“{value}” is not a room type (单人间, 家庭房, 无障碍间)", value=kind_text)
                    if kind_text
                    else Message("give the room type (单人间, 家庭房, 无障碍间)"),
                )
            )
        beds_text = cell(values, "beds") if "beds" in index else ""
        beds = 0
        if not beds_text:
            if kind == RoomKind.single:
                beds = 1
            elif kind is not None:
                row_errors.append(
                    RowError(
                        number, label.get("beds", "床位" if chinese else "beds"), "give the number of beds"
                    )
                )
        else:
            try:
                beds = int(beds_text)
            except ValueError:
                beds = 0
            if str(beds) != beds_text or not 1 <= beds <= MAX_BEDS:
                row_errors.append(
                    RowError(
                        number,
                        label["beds"],
                        Message(
                            "“{value}” is not a number of beds from {low} to {high}",
                            value=beds_text,
                            low=1,
                            high=MAX_BEDS,
                        ),
                    )
                )
        floor = cell(values, "floor")
        if len(floor) > 10:
            row_errors.append(RowError(number, label["floor"], Message("at most {n} characters", n=10)))
        zone = cell(values, "zone")
        if len(zone) > 20:
            row_errors.append(RowError(number, label["zone"], Message("at most {n} characters", n=20)))
        if row_errors:
            errors.extend(row_errors)
            if len(errors) >= MAX_ERRORS:
                break
            continue
        assert kind is not None
        rooms.append(RoomInput(room_number, kind, beds, floor, zone))
    if not data_rows:
        errors.append(RowError(2, "*", "the file has no rooms"))
    if errors:
        raise InvalidInput(errors[:MAX_ERRORS], file=True)
    return rooms


def import_rooms(
    session: Session, principal: Principal, site_id: int, path: Path, *, dry_run: bool, ip: str = ""
) -> RoomImportReport:
    """Check every row of the file and, unless ``dry_run``, add the rooms to the site (all or nothing)."""
    site = get_site(session, principal, site_id)
    _open_for_rooms(site)
    rooms = parse_rooms(_read(path), existing_numbers(session, site.id))
    report = RoomImportReport(
        site_id=site.id,
        site_name=site.name,
        rows=len(rooms),
        dry_run=dry_run,
        beds=sum(r.beds for r in rooms),
        by_kind=dict(Counter(RoomKind(r.kind) for r in rooms)),
        floors=len({r.floor for r in rooms if r.floor}),
        zones=len({r.zone for r in rooms if r.zone}),
    )
    if dry_run:
        return report
    insert_rooms(session, site.id, rooms)
    report.added = len(rooms)
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.rooms.import",
        "quarantine_site",
        site.id,
        detail={"file": path.name, "rooms": len(rooms), "beds": report.beds},
        jpath=site.jpath,
    )
    return report


# ------------------------------------------------------------------------------------------- template


def room_template_xlsx(language: str = "zh") -> bytes:
    """A blank room sheet (headers in ``language``) and a sheet explaining each column and its values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    chinese = language.startswith("zh")
    labels = [c.zh if chinese else c.name for c in COLUMNS]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "房间" if chinese else "rooms"
    sheet.append(labels)
    for i, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True, color="B42318" if column.required else "000000")
        sheet.column_dimensions[cell.column_letter].width = 14
        if column.name in ("number", "floor", "zone"):
            # Room numbers stay text: "0301" would lose its zero as a number.
            for row in range(2, 1002):
                sheet.cell(row=row, column=i).number_format = "@"
    notes = book.create_sheet("说明" if chinese else "notes")
    notes.append(
        ["列名", "必填", "说明", "示例", "也可写作"]
        if chinese
        else ["column", "required", "meaning", "example", "also accepted"]
    )
    for column, label in zip(COLUMNS, labels, strict=True):
        others = sorted(
            {column.name, column.zh, *(a for a, n in _ALIASES.items() if n == column.name)} - {label}
        )
        notes.append(
            [
                label,
                ("是" if chinese else "yes") if column.required else "",
                column.help_zh if chinese else column.help_en,
                column.example,
                ", ".join(others),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def room_template_csv(language: str = "zh") -> bytes:
    """The header line alone, UTF-8 with a byte-order mark so that Excel opens the Chinese correctly."""
    out = io.StringIO()
    csv.writer(out).writerow([c.zh if language.startswith("zh") else c.name for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")
