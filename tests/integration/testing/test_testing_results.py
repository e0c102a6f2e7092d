"""Lab results from CSV, Excel and FHIR: idempotent, unknown barcodes reported while the rest loads, bad
rows refusing the whole file by row and column, corrections as new versions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import HOME_COUNTY, World
from fangkong.core.errors import InvalidInput
from fangkong.testing.fhir_results import template_bundle
from fangkong.testing.models import LabResult, Tube, TubeKind
from fangkong.testing.service import results
from testing_support import acting_as as _acting_as
from testing_support import bus_with_orders, pooled_tube, state_snapshot, write_results

FIXTURES = Path(__file__).parents[2] / "fixtures" / "testing"
LAB = "home_laboratory"
SAMPLED = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)


def acting_as(app, username: str):  # type: ignore[no-untyped-def]
    return _acting_as(app.state.db, username)


def _tubes(app, world: World) -> None:  # type: ignore[no-untyped-def]
    people = world.people[HOME_COUNTY]
    with acting_as(app, LAB) as (session, _me):
        pooled_tube(session, "P-001", people[:3], scanned_at=SAMPLED)
        pooled_tube(session, "P-002", people[3:5], scanned_at=SAMPLED, first_seq=10)
        pooled_tube(
            session, "S-001", people[5:6], scanned_at=SAMPLED, pool_size=1, kind=TubeKind.single, first_seq=20
        )


ROWS = [
    ("P-001", "阴性", "", "", "2026-12-06 14:00"),
    ("P-002", "阴性", "", "", "2026-12-06 14:00"),
    ("S-001", "阴性", "", "", "2026-12-06 14:05"),
]


def test_a_results_file_loaded_twice_changes_nothing(app, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _tubes(app, world)
    path = write_results(tmp_path / "lab.csv", ROWS)
    bus = bus_with_orders()
    with acting_as(app, LAB) as (session, lab):
        first = results.load_results(session, lab, path, bus=bus)
        assert (first.rows, first.loaded, first.unchanged, first.unknown) == (3, 3, 0, [])
    with acting_as(app, LAB) as (session, lab):
        before = state_snapshot(session)
        again = results.load_results(session, lab, path, bus=bus)
        assert (again.loaded, again.unchanged, again.corrections) == (0, 3, 0)
    with acting_as(app, LAB) as (session, _lab):
        assert state_snapshot(session) == before
        assert {
            t.barcode: (t.result.value if t.result else None, t.result_version)
            for t in session.scalars(select(Tube))
        } == {
            "P-001": ("negative", 1),
            "P-002": ("negative", 1),
            "S-001": ("negative", 1),
        }


def test_an_unknown_barcode_is_reported_and_the_rest_loads(app, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _tubes(app, world)
    path = write_results(
        tmp_path / "lab.csv", [*ROWS[:1], ("NOPE-9", "阴性", "", "", "2026-12-06 14:00"), *ROWS[1:]]
    )
    with acting_as(app, LAB) as (session, lab):
        report = results.load_results(session, lab, path, bus=bus_with_orders())
        assert report.loaded == 3
        assert [(e.row, e.field) for e in report.unknown] == [(3, "条码")]
        assert "NOPE-9" in report.unknown[0].message
    with acting_as(app, LAB) as (session, _lab):
        assert session.scalar(select(func.count()).select_from(LabResult)) == 3


def test_other_bad_rows_refuse_the_whole_file_naming_row_and_column(
    app, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _tubes(app, world)
    path = write_results(
        tmp_path / "lab.csv",
        [
            ROWS[0],
            ("P-002", "maybe", "", "", "2026-12-06 14:00"),
            ("S-001", "阳性", "abc", "60", "2026-12-06 14:00"),
            ("", "阴性", "", "", "2030-01-01 00:00"),
            ("P-001", "阴性", "", "", "2026-12-06 14:00"),
        ],
    )
    with acting_as(app, LAB) as (session, lab):
        with pytest.raises(InvalidInput) as refused:
            results.load_results(session, lab, path, bus=bus_with_orders())
        assert [(e.row, e.field) for e in refused.value.errors] == [
            (3, "结果"),
            (4, "Ct ORF1ab"),
            (4, "Ct N"),
            (5, "条码"),
            (5, "检测时间"),
            (6, "条码"),
        ]
        assert "row 2" in refused.value.errors[-1].message
    with acting_as(app, LAB) as (session, _lab):
        assert session.scalar(select(func.count()).select_from(LabResult)) == 0
        missing = write_results(
            tmp_path / "no_result.csv", [("P-001", "2026-12-06 14:00")], header=("条码", "检测时间")
        )
        with pytest.raises(InvalidInput) as header:
            results.load_results(session, _lab, missing)
        assert [(e.row, e.field) for e in header.value.errors] == [(1, "结果")]


def test_corrections_are_new_versions_and_a_named_version_cannot_be_rewritten(
    app, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _tubes(app, world)
    bus = bus_with_orders()
    with acting_as(app, LAB) as (session, lab):
        results.load_results(session, lab, write_results(tmp_path / "a.csv", ROWS), bus=bus)
    corrected = [("P-002", "无效", "", "", "2026-12-06 16:00")]
    with acting_as(app, LAB) as (session, lab):
        report = results.load_results(session, lab, write_results(tmp_path / "b.csv", corrected), bus=bus)
        assert (report.loaded, report.corrections) == (1, 1)
    with acting_as(app, LAB) as (session, lab):
        versions = session.execute(
            select(LabResult.version, LabResult.result)
            .where(LabResult.barcode == "P-002")
            .order_by(LabResult.version)
        ).all()
        assert [(v, r.value) for v, r in versions] == [(1, "negative"), (2, "invalid")]
        tube = session.scalar(select(Tube).where(Tube.barcode == "P-002"))
        assert tube is not None and (tube.result.value if tube.result else None, tube.result_version) == (
            "invalid",
            2,
        )
        # The old version sent again is already known: nothing changes, the tube keeps its correction.
        again = results.load_results(session, lab, write_results(tmp_path / "c.csv", ROWS[1:2]), bus=bus)
        assert (again.loaded, again.unchanged) == (0, 1)
        header = ("条码", "结果", "Ct ORF1ab", "Ct N", "检测时间", "版本")
        rewritten = write_results(
            tmp_path / "d.csv", [("P-002", "阳性", "30", "", "2026-12-06 17:00", "1")], header
        )
        with pytest.raises(InvalidInput) as refused:
            results.load_results(session, lab, rewritten, bus=bus)
        assert [(e.row, e.field) for e in refused.value.errors] == [(2, "版本")]
    with acting_as(app, LAB) as (session, _lab):
        tube = session.scalar(select(Tube).where(Tube.barcode == "P-002"))
        assert tube is not None and tube.result_version == 2


def test_an_excel_file_loads_like_a_csv(app, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    _tubes(app, world)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["barcode", "result", "Ct ORF1ab", "Ct N", "tested_at"])
    sheet.append(["P-001", "negative", None, None, dt.datetime(2026, 12, 6, 14, 0)])
    sheet.append(["S-001", "positive", 31.5, 30.25, dt.datetime(2026, 12, 6, 14, 0)])
    book.save(tmp_path / "lab.xlsx")
    with acting_as(app, LAB) as (session, lab):
        report = results.load_results(session, lab, tmp_path / "lab.xlsx", bus=bus_with_orders())
        assert (report.loaded, report.positive_people) == (2, 1)
        stored = session.scalar(select(LabResult).where(LabResult.barcode == "S-001"))
        assert stored is not None and json.loads(stored.ct_values) == {"ORF1ab": 31.5, "N": 30.25}
        assert stored.min_ct == 30.25
        # 14:00 in Shanghai is 06:00 UTC.
        assert stored.tested_at == dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)


def test_a_fhir_bundle_from_the_template_loads_and_a_malformed_one_is_refused_naming_the_element(
    app, world: World
) -> None:  # type: ignore[no-untyped-def]
    people = world.people[HOME_COUNTY]
    with acting_as(app, LAB) as (session, _me):
        pooled_tube(session, "TUBE-20261206-0001", people[:2], scanned_at=SAMPLED)
        pooled_tube(session, "TUBE-20261206-0002", people[2:4], scanned_at=SAMPLED, first_seq=10)
    data = json.dumps(template_bundle()).encode()
    bus = bus_with_orders()
    with acting_as(app, LAB) as (session, lab):
        report = results.load_fhir(session, lab, data, bus=bus)
        assert (report.loaded, report.positive_pools, report.recalled) == (2, 1, 2)
    with acting_as(app, LAB) as (session, lab):
        stored = session.scalar(select(LabResult).where(LabResult.barcode == "TUBE-20261206-0001"))
        assert stored is not None and json.loads(stored.ct_values) == {"ORF1ab": 28.4, "N": 26.9}
        assert results.load_fhir(session, lab, data, bus=bus).unchanged == 2
        with pytest.raises(InvalidInput) as refused:
            results.load_fhir(session, lab, (FIXTURES / "fhir_missing_barcode.json").read_bytes(), bus=bus)
        assert [e.field for e in refused.value.errors] == ["Bundle.entry[2].resource.container[0].identifier"]
        corrected = results.load_fhir(
            session, lab, (FIXTURES / "fhir_corrected_report.json").read_bytes(), bus=bus
        )
        assert (corrected.loaded, corrected.corrections, corrected.unchanged) == (1, 1, 1)
    with acting_as(app, LAB) as (session, _lab):
        tube = session.scalar(select(Tube).where(Tube.barcode == "TUBE-20261206-0002"))
        assert tube is not None and (tube.result.value if tube.result else None, tube.result_version) == (
            "invalid",
            2,
        )


def test_versions_of_one_tube_in_one_file_each_load_once_and_the_newest_stands(
    app, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _tubes(app, world)
    header = ("条码", "结果", "Ct ORF1ab", "Ct N", "检测时间", "版本")
    rows = [
        ("P-001", "阴性", "", "", "2026-12-06 14:00", "1"),
        ("P-002", "阴性", "", "", "2026-12-06 14:00", "1"),
        ("P-001", "阳性", "30.5", "", "2026-12-06 15:00", "2"),
        # Version 2 of P-002 says what its version 1 says: already loaded.
        ("P-002", "阴性", "", "", "2026-12-06 14:00", "2"),
        ("S-001", "阴性", "", "", "2026-12-06 14:05", "1"),
    ]
    path = write_results(tmp_path / "versions.csv", rows, header)
    bus = bus_with_orders()
    with acting_as(app, LAB) as (session, lab):
        report = results.load_results(session, lab, path, bus=bus)
        assert (report.loaded, report.corrections, report.unchanged, report.tubes_resulted) == (4, 1, 1, 3)
        assert (report.positive_pools, report.recalled) == (1, 3)
    with acting_as(app, LAB) as (session, lab):
        assert sorted(tuple(r) for r in session.execute(select(LabResult.barcode, LabResult.version))) == [
            ("P-001", 1),
            ("P-001", 2),
            ("P-002", 1),
            ("S-001", 1),
        ]
        assert {
            t.barcode: (t.result.value if t.result else None, t.result_version)
            for t in session.scalars(select(Tube))
        } == {"P-001": ("positive", 2), "P-002": ("negative", 1), "S-001": ("negative", 1)}
        before = state_snapshot(session)
        again = results.load_results(session, lab, path, bus=bus)
        assert (again.loaded, again.unchanged, again.tubes_resulted) == (0, 5, 0)
    with acting_as(app, LAB) as (session, _lab):
        assert state_snapshot(session) == before
