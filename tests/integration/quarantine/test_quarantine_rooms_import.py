"""Rooms from real Excel and CSV files: template, dry run, every bad row named, duplicates, all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from conftest import World
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditEntry
from fangkong.quarantine.models import QuarantineRoom, RoomKind, SiteStatus
from fangkong.quarantine.service import rooms_import
from quarantine_support import acting, new_site

MANAGER = "home_quarantine_manager"
HEADER_ZH = ["房间号", "楼层", "通风分区", "房型", "床位"]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _csv(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _rooms(session, site_id: int) -> dict[str, QuarantineRoom]:  # type: ignore[no-untyped-def]
    return {
        r.number: r for r in session.scalars(select(QuarantineRoom).where(QuarantineRoom.site_id == site_id))
    }


@pytest.fixture
def site_id(app, world: World) -> int:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        return new_site(session, principal, "西湖一号").id


def test_the_template_has_chinese_headers_and_explains_them() -> None:
    book = load_workbook(io.BytesIO(rooms_import.room_template_xlsx()))
    rooms, notes = book.worksheets
    assert [c.value for c in rooms[1]] == HEADER_ZH
    explained = {row[0]: row for row in notes.iter_rows(min_row=2, values_only=True)}
    assert explained["房型"][1] == "是"
    assert "room type" in str(explained["房型"][4])
    english = load_workbook(io.BytesIO(rooms_import.room_template_xlsx("en"))).worksheets[0]
    assert [c.value for c in english[1]] == ["number", "floor", "zone", "kind", "beds"]
    assert rooms_import.room_template_csv().decode("utf-8-sig").strip() == ",".join(HEADER_ZH)


def test_a_good_xlsx_file_with_numbers_in_number_cells(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _xlsx(
        tmp_path / "rooms.xlsx",
        [
            HEADER_ZH,
            [301, 3, "A", "单人间", None],
            ["302", "3", "A", "家庭房", 3],
            [None, None, None, None, None],  # an empty line is skipped
            ["401", 4, "B", "无障碍间", 2.0],
            ["0402", 4, "B", "single", 1],
        ],
    )
    with acting(app, MANAGER) as (session, principal):
        report = rooms_import.import_rooms(session, principal, site_id, path, dry_run=False, ip="10.0.0.2")
        assert (report.rows, report.added, report.beds, report.floors, report.zones) == (4, 4, 7, 2, 2)
        assert report.by_kind == {RoomKind.single: 2, RoomKind.family: 1, RoomKind.accessible: 1}
    with acting(app, MANAGER) as (session, principal):
        rooms = _rooms(session, site_id)
        assert sorted(rooms) == ["0402", "301", "302", "401"]
        assert (rooms["301"].floor, rooms["301"].zone, rooms["301"].kind, rooms["301"].beds) == (
            "3",
            "A",
            RoomKind.single,
            1,
        )
        assert (rooms["302"].kind, rooms["302"].beds) == (RoomKind.family, 3)
        assert rooms["401"].beds == 2
        assert session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "quarantine.rooms.import"))


def test_a_dry_run_writes_nothing(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _xlsx(
        tmp_path / "rooms.xlsx", [HEADER_ZH, ["101", "1", "A", "单人间", 1], ["102", "1", "A", "单人间", 1]]
    )
    with acting(app, MANAGER) as (session, principal):
        report = rooms_import.import_rooms(session, principal, site_id, path, dry_run=True)
        assert (report.rows, report.added, report.dry_run) == (2, 0, True)
    with acting(app, MANAGER) as (session, principal):
        assert _rooms(session, site_id) == {}
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("%rooms%"))
            )
            == 0
        )


def test_every_bad_row_is_named_by_row_and_the_files_own_column_and_nothing_is_written(
    app, site_id: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # English aliases as a hand-made sheet might have them.
    path = _xlsx(
        tmp_path / "rooms.xlsx",
        [
            ["Room Number", "Floor", "Ventilation zone", "Type", "Beds"],
            ["101", "1", "A", "single", 1],  # row 2: good
            ["102", "1", "A", "suite", 1],  # row 3: bad type
            ["103", "1", "A", "family", None],  # row 4: family room without beds
            [None, "1", "A", "single", 1],  # row 5: no number
            ["105", "1", "A", "single", "two"],  # row 6: beds not a number
            ["106", "1", "A", "single", 40],  # row 7: too many beds
            ["107", "12345678901", "A", None, 1],  # row 8: floor too long, no type
        ],
    )
    with acting(app, MANAGER) as (session, principal), pytest.raises(InvalidInput) as caught:
        rooms_import.import_rooms(session, principal, site_id, path, dry_run=False)
    assert caught.value.file
    named = [(e.row, e.field) for e in caught.value.errors]
    assert named == [
        (3, "Type"),
        (4, "Beds"),
        (5, "Room Number"),
        (6, "Beds"),
        (7, "Beds"),
        (8, "Type"),
        (8, "Floor"),
    ]
    assert "“suite” is not a room type" in caught.value.errors[0].message
    with acting(app, MANAGER) as (session, _principal):
        assert _rooms(session, site_id) == {}


def test_duplicates_in_the_file_and_against_the_site(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = _xlsx(tmp_path / "first.xlsx", [HEADER_ZH, ["101", "1", "A", "单人间", 1]])
    with acting(app, MANAGER) as (session, principal):
        rooms_import.import_rooms(session, principal, site_id, first, dry_run=False)
    again = _xlsx(
        tmp_path / "again.xlsx",
        [
            HEADER_ZH,
            ["101", "1", "A", "单人间", 1],
            ["201", "2", "A", "单人间", 1],
            ["201", "2", "B", "单人间", 1],
        ],
    )
    with acting(app, MANAGER) as (session, principal), pytest.raises(InvalidInput) as caught:
        rooms_import.import_rooms(session, principal, site_id, again, dry_run=True)
    errors = caught.value.errors
    assert [(e.row, e.field) for e in errors] == [(2, "房间号"), (4, "房间号")]
    assert "room 101 already exists in this site" in errors[0].message
    assert "room 201 is given twice (also row 3)" in errors[1].message
    with acting(app, MANAGER) as (session, _principal):
        assert list(_rooms(session, site_id)) == ["101"]


def test_csv_in_utf8_and_gb18030(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    utf8 = _csv(tmp_path / "rooms.csv", [",".join(HEADER_ZH), "101,1,A,单人间,", "102,1,A,家庭房,4"])
    gbk = _csv(tmp_path / "more.csv", ["房号,床位数,房间类型", "201,1,单间"], encoding="gb18030")
    with acting(app, MANAGER) as (session, principal):
        assert rooms_import.import_rooms(session, principal, site_id, utf8, dry_run=False).added == 2
        assert rooms_import.import_rooms(session, principal, site_id, gbk, dry_run=False).added == 1
    with acting(app, MANAGER) as (session, _principal):
        rooms = _rooms(session, site_id)
        assert sorted(rooms) == ["101", "102", "201"]
        assert rooms["102"].beds == 4
        assert rooms["201"].floor == ""


def test_a_bad_csv_row_among_good_ones_writes_nothing(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = [",".join(HEADER_ZH)] + [f"{100 + i},1,A,单人间,1" for i in range(1, 50)] + ["150,1,A,总统套房,1"]
    path = _csv(tmp_path / "rooms.csv", lines)
    with acting(app, MANAGER) as (session, principal), pytest.raises(InvalidInput) as caught:
        rooms_import.import_rooms(session, principal, site_id, path, dry_run=False)
    assert [(e.row, e.field) for e in caught.value.errors] == [(51, "房型")]
    with acting(app, MANAGER) as (session, _principal):
        assert _rooms(session, site_id) == {}


def test_header_problems_are_named_in_the_files_language(app, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = _csv(tmp_path / "missing.csv", ["楼层,床位,备注", "1,1,x"])
    with acting(app, MANAGER) as (session, principal), pytest.raises(InvalidInput) as caught:
        rooms_import.import_rooms(session, principal, site_id, missing, dry_run=True)
    assert {(e.row, e.field) for e in caught.value.errors} == {(1, "房间号"), (1, "房型"), (1, "备注")}
    for name, content in (
        ("rooms.pdf", b"%PDF"),
        ("empty.csv", b""),
        ("header.csv", ",".join(HEADER_ZH).encode()),
    ):
        (tmp_path / name).write_bytes(content)
        with acting(app, MANAGER) as (session, principal), pytest.raises(InvalidInput):
            rooms_import.import_rooms(session, principal, site_id, tmp_path / name, dry_run=True)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with (
        acting(app, MANAGER) as (session, principal),
        pytest.raises(InvalidInput, match="not a readable Excel"),
    ):
        rooms_import.import_rooms(session, principal, site_id, broken, dry_run=True)


def test_scope_and_closed_sites(app, world: World, site_id: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _xlsx(tmp_path / "rooms.xlsx", [HEADER_ZH, ["101", "1", "A", "单人间", 1]])
    with acting(app, "away_quarantine_manager") as (session, principal), pytest.raises(NotFound):
        rooms_import.import_rooms(session, principal, site_id, path, dry_run=True)
    with acting(app, MANAGER) as (session, principal):
        closed = new_site(session, principal, "已关闭", status=SiteStatus.closed)
        with pytest.raises(Conflict, match="closed for good"):
            rooms_import.import_rooms(session, principal, closed.id, path, dry_run=True)
