"""Set-based mass ingest: a site system's upload of sampling records (``scanning.ingest_records``), and a
large results file loaded by ``results.load_results`` — exact counts, idempotent re-sends, refusals by row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.models import AuditEntry
from fangkong.testing.models import (
    LabResult,
    OrderState,
    Recall,
    TestOrder,
    TestPlace,
    TestResult,
    Tube,
    TubeKind,
    TubeMember,
)
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service import results, scanning
from fangkong.testing.service.scanning import IngestReport, SamplingRecord
from fangkong.testing.service.staging import ANALYZE_FROM
from testing_support import (
    acting_as,
    bus_with_orders,
    home_people,
    home_round,
    jpath_of,
    make_scan,
    pooled_tube,
    scan_codes,
    state_snapshot,
    write_results,
)


def _ingest(app, round_id: int, rows: list[SamplingRecord], settings: Settings) -> IngestReport:  # type: ignore[no-untyped-def]
    with acting_as(app.state.db, "home_community_worker") as (session, me):
        return scanning.ingest_records(session, me, round_id, rows, codes=scan_codes(settings))


def _row(
    codes: ScanCodes,
    person: int,
    barcode: str,
    seq: int,
    *,
    device: str = "site-01",
    pool_size: int | None = None,
    kind: TubeKind | None = None,
    at: dt.datetime | None = None,
) -> SamplingRecord:
    return SamplingRecord(device, seq, codes.code_for(person), barcode, pool_size, kind, at or clock.utcnow())


def _tubes(app) -> dict[str, tuple[int, int, TubeKind]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return {t.barcode: (t.members, t.pool_size, t.kind) for t in session.scalars(select(Tube))}


def _members(app) -> int:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(TubeMember)) or 0)


def test_an_upload_records_exact_counts_and_a_resend_changes_nothing(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings, frozen_clock
) -> None:
    _, round_id = home_round(app.state.db, world, pool_size=5)
    codes = scan_codes(settings)
    people = home_people(world)
    taken = clock.utcnow()
    rows = [
        _row(codes, p, "B0001" if k < 4 else "B0002", 10 + k, at=taken + dt.timedelta(minutes=k))
        for k, p in enumerate(people)
    ]
    report = _ingest(app, round_id, rows, settings)
    assert (report.rows, report.recorded, report.already_recorded, report.refused) == (6, 6, 0, 0)
    assert report.through_bind == 0
    assert _tubes(app) == {"B0001": (4, 5, TubeKind.pooled), "B0002": (2, 5, TubeKind.pooled)}
    with app.state.db.unit_of_work() as session:
        opened = session.scalar(select(Tube.opened_at).where(Tube.barcode == "B0002"))
        assert opened == taken + dt.timedelta(minutes=4)
        stored = session.execute(
            select(TubeMember.person_id, TubeMember.jpath, TubeMember.round_id, TubeMember.scanned_at)
        ).all()
        assert sorted(p for p, *_ in stored) == sorted(people)
        assert {r for _p, _j, r, _s in stored} == {round_id}
        assert all(j.startswith("/330000/330100/330106/") for _p, j, _r, _s in stored)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "testing.scan.ingest"))
        assert entry is not None and '"recorded": 6' in entry.detail

    # The site system sends the day again, and once more with two rows repeated inside the upload.
    frozen_clock.advance(hours=3)
    again = _ingest(app, round_id, rows + rows[:2], settings)
    assert (again.recorded, again.already_recorded, again.refused) == (0, 8, 0)
    assert _tubes(app) == {"B0001": (4, 5, TubeKind.pooled), "B0002": (2, 5, TubeKind.pooled)}
    assert _members(app) == 6


def test_a_partly_recorded_upload_records_the_rest_into_the_same_tube(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    _, round_id = home_round(app.state.db, world, pool_size=5)
    codes = scan_codes(settings)
    people = home_people(world)
    rows = [_row(codes, p, "B0100", k) for k, p in enumerate(people[:5])]
    # Two scans went through the handheld path earlier; then the site system uploads the whole day.
    with acting_as(app.state.db, "home_community_worker") as (session, me):
        early = [
            make_scan(codes, p, "B0100", k, round_id=round_id, device="site-01")
            for k, p in enumerate(people[:2])
        ]
        assert scanning.bind(session, me, early, codes=codes).recorded == 2
    report = _ingest(app, round_id, rows, settings)
    assert (report.recorded, report.already_recorded, report.refused) == (3, 2, 0)
    assert _tubes(app)["B0100"] == (5, 5, TubeKind.pooled)
    assert _members(app) == 5


def test_refused_rows_are_reported_one_by_one_and_the_good_rows_recorded(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    _, round_id = home_round(app.state.db, world, pool_size=5)
    codes = scan_codes(settings)
    people = home_people(world)
    real = codes.code_for(people[0])
    person_id, check = real.split("-")[1:]
    rows = [
        _row(codes, people[0], "B0200", 1),
        SamplingRecord(
            "site-01", 2, f"FK1-{int(person_id) + 1}-{check}", "B0200", None, None, clock.utcnow()
        ),
        _row(codes, world.people[FOREIGN_COUNTY][0], "B0200", 3),
        _row(codes, 999_999, "B0200", 4),
        _row(codes, people[1], "", 5),
        _row(codes, people[1], "B0200", 6, pool_size=8),
        _row(codes, people[1], "B0200", 7, pool_size=10),
        _row(codes, people[2], "B0200", 1),  # sequence 1 again for someone else
        _row(codes, people[0], "B0201", 8),  # the same person again in the upload
        _row(codes, people[1], "B0200", 9),
        _row(codes, people[2], "B0200", 10),
        _row(codes, people[3], "B0200", 11),
        _row(codes, people[4], "B0200", 12),
        _row(codes, people[5], "B0200", 13),  # the sixth in a tube of five
    ]
    report = _ingest(app, round_id, rows, settings)
    assert (report.recorded, report.already_recorded, report.refused) == (5, 0, 9)
    assert [(o.index, o.field, o.text) for o in report.refusals] == [
        (1, "person_code", "unknown or forged person code"),
        (2, "person_code", "this person does not live in the round's area"),
        (3, "person_code", "unknown or forged person code"),
        (4, "barcode", "the tube barcode must have 1 to 40 characters"),
        (5, "pool_size", "pool size must be one of 1, 5, 10, 20"),
        (6, "pool_size", "tube B0200 holds 5 people, not 10"),
        (7, "device_seq", "sequence 1 of device site-01 was already used for another scan"),
        (8, "person_code", "this person was already sampled in round 1 (tube B0200)"),
        (13, "barcode", "tube B0200 is full: it holds 5 people and has 5"),
    ]
    assert _tubes(app) == {"B0200": (5, 5, TubeKind.pooled)}
    # A later upload: the person already sampled is refused with the tube they are in.
    later = _ingest(app, round_id, [_row(codes, people[0], "B0202", 30)], settings)
    assert [o.text for o in later.refusals] == ["this person was already sampled in round 1 (tube B0200)"]
    assert "B0202" not in _tubes(app)


def test_sealed_areas_and_people_under_management_take_binds_rules(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    _, round_id = home_round(app.state.db, world, sealed=("330106001001",))
    codes = scan_codes(settings)
    first, alone, housemate, managed, *others = home_people(world)
    with app.state.db.unit_of_work() as session:
        session.add(
            TestOrder(
                person_id=managed,
                jpath="/330000/330100/330106/330106001/330106001002/",
                source="contact:1",
                plan_day=3,
                due_date=clock.today() + dt.timedelta(days=2),
                place=TestPlace.home,
                state=OrderState.open,
            )
        )
    rows = [
        _row(codes, first, "H0001", 1),
        _row(codes, alone, "H0001", 2),  # another household
        _row(codes, housemate, "H0001", 3),
        _row(codes, managed, "P0001", 4),  # under management: a single tube only
        _row(codes, others[0], "P0001", 5),
        _row(codes, managed, "S0001", 6, pool_size=1),
        _row(codes, others[1], "P0001", 7),
    ]
    report = _ingest(app, round_id, rows, settings)
    assert [(o.index, o.text) for o in report.refusals] == [
        (1, "tube H0001 holds another household"),
        (3, "this person is under management and must be sampled in a single tube"),
    ]
    assert (report.recorded, report.refused) == (5, 2)
    assert _tubes(app) == {
        "H0001": (2, 5, TubeKind.household),
        "P0001": (2, 5, TubeKind.pooled),
        "S0001": (1, 1, TubeKind.single),
    }


def test_uploads_that_go_on_filling_a_tube_count_exactly(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world, pool_size=10)
    codes = scan_codes(settings)
    people = home_people(world)
    rows = [_row(codes, p, "B0300", k) for k, p in enumerate(people)]
    assert _ingest(app, round_id, rows[:2], settings).recorded == 2
    # The next upload goes on filling the same tube.
    report = _ingest(app, round_id, rows[2:4], settings)
    assert (report.recorded, report.already_recorded, report.refused) == (2, 0, 0)
    assert _tubes(app)["B0300"] == (4, 10, TubeKind.pooled)
    # An upload repeating some of what was sent: the stored rows are found and the rest recorded.
    report = _ingest(app, round_id, rows[1:], settings)
    assert (report.recorded, report.already_recorded, report.refused) == (2, 3, 0)
    assert _tubes(app)["B0300"] == (6, 10, TubeKind.pooled)
    assert _members(app) == 6


# --- a large results file: its rows staged (and analysed on PostgreSQL) and joined with the tubes ---------


def test_a_large_results_file_loads_once_flags_its_positive_pool_and_reports_unknown_rows(  # type: ignore[no-untyped-def]
    app, world: World, tmp_path: Path
) -> None:
    people = world.people[HOME_COUNTY]
    sampled = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)
    count = ANALYZE_FROM + 100
    with acting_as(app.state.db, "home_laboratory") as (session, _lab):
        pooled_tube(session, "P-001", people[:3], scanned_at=sampled)
        pooled_tube(
            session, "S-001", people[3:4], scanned_at=sampled, pool_size=1, kind=TubeKind.single, first_seq=20
        )
        session.add_all(
            Tube(barcode=f"E-{k:04d}", jpath=jpath_of(session, people[0]), kind=TubeKind.pooled, pool_size=10)
            for k in range(count)
        )
    rows = [(f"E-{k:04d}", "阴性", "", "", "2026-12-06 14:00") for k in range(count)]
    rows[10:10] = [
        ("P-001", "阳性", "31.2", "30.8", "2026-12-06 14:00"),
        ("NOPE-1", "阴性", "", "", "2026-12-06 14:00"),
    ]
    rows.append(("S-001", "阳性", "28.5", "", "2026-12-06 14:05"))
    rows.append(("NOPE-2", "阴性", "", "", "2026-12-06 14:00"))
    path = write_results(tmp_path / "lab.csv", rows)
    bus = bus_with_orders()
    with acting_as(app.state.db, "home_laboratory") as (session, lab):
        report = results.load_results(session, lab, path, bus=bus)
    assert (report.rows, report.loaded, report.unchanged, report.tubes_resulted) == (
        count + 4,
        count + 2,
        0,
        count + 2,
    )
    assert [(e.row, e.field) for e in report.unknown] == [(13, "条码"), (count + 5, "条码")]
    assert (report.positive_pools, report.recalled, report.positive_people) == (1, 3, 1)
    with app.state.db.unit_of_work() as session:
        resulted = dict(session.execute(select(Tube.result, func.count()).group_by(Tube.result)).all())
        assert resulted == {TestResult.negative: count, TestResult.positive: 2}
        assert sorted(session.scalars(select(Recall.person_id))) == sorted(people[:3])
        assert session.scalar(select(func.count()).select_from(LabResult)) == count + 2
        before = state_snapshot(session)
    # The same file again changes nothing; a correction of one tube is its second version.
    with acting_as(app.state.db, "home_laboratory") as (session, lab):
        again = results.load_results(session, lab, path, bus=bus)
    assert (again.loaded, again.unchanged, len(again.unknown)) == (0, count + 2, 2)
    with app.state.db.unit_of_work() as session:
        assert state_snapshot(session) == before
    rows[0] = ("E-0000", "无效", "", "", "2026-12-06 15:00")
    with acting_as(app.state.db, "home_laboratory") as (session, lab):
        corrected = results.load_results(session, lab, write_results(tmp_path / "lab2.csv", rows), bus=bus)
    assert (corrected.loaded, corrected.corrections, corrected.unchanged) == (1, 1, count + 1)
    with app.state.db.unit_of_work() as session:
        tube = session.scalar(select(Tube).where(Tube.barcode == "E-0000"))
        assert tube is not None and (tube.result, tube.result_version) == (TestResult.invalid, 2)


def test_an_upload_rolled_back_leaves_nothing_and_the_next_one_records(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    _, round_id = home_round(app.state.db, world, pool_size=5)
    codes = scan_codes(settings)
    rows = [_row(codes, p, "B0400", k) for k, p in enumerate(home_people(world)[:5])]

    def upload_then_fail() -> None:
        with acting_as(app.state.db, "home_community_worker") as (session, me):
            assert scanning.ingest_records(session, me, round_id, rows, codes=codes).recorded == 5
            raise RuntimeError("the request failed after the upload")

    with pytest.raises(RuntimeError):
        upload_then_fail()
    assert _members(app) == 0 and _tubes(app) == {}
    # Its staging tables went with it; the next upload (on whichever connection) makes them again.
    for _attempt in range(3):
        report = _ingest(app, round_id, rows, settings)
    assert (report.recorded, report.already_recorded) == (0, 5)
    assert _tubes(app) == {"B0400": (5, 5, TubeKind.pooled)}
