"""Coverage of a round on a hand-made example: counts per community, turnaround against the laboratory's
deadline, progress, and the not-sampled list as a real Excel workbook (masked, or revealed and audited)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from conftest import World
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import NotFound
from fangkong.core.models import AuditEntry
from fangkong.testing.models import Laboratory, LabResult, TestResult, Tube
from fangkong.testing.service import coverage, scanning
from testing_support import HOME_COMMUNITIES, acting_as, home_people, home_round, make_scan, scan_codes


def _sample(app, world: World, settings: Settings, frozen_clock) -> tuple[int, dict[str, dt.datetime]]:  # type: ignore[no-untyped-def]
    """Community 1 (people a, b, c): a and b in tube T1. Community 2 (d, e, f): d in T2, e in T3.

    T1 is negative 5 h after its last swab (lab of 12 h), T3 positive 20 h after (late), T2 has no result.
    """
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    a, b, _c, d, e, _f = home_people(world)
    start = clock.utcnow()
    scans = [
        make_scan(codes, a, "T1", 1, round_id=round_id, at=start + dt.timedelta(minutes=10)),
        make_scan(codes, b, "T1", 2, round_id=round_id, at=start + dt.timedelta(minutes=70)),
        make_scan(codes, d, "T2", 3, round_id=round_id, at=start + dt.timedelta(minutes=80)),
        make_scan(codes, e, "T3", 4, round_id=round_id, at=start + dt.timedelta(minutes=150)),
    ]
    with acting_as(app.state.db, "home_community_worker") as (session, me):
        assert scanning.bind(session, me, scans, codes=codes).recorded == 4
    with app.state.db.unit_of_work() as session:
        lab = Laboratory(
            name="西湖区疾控实验室", jurisdiction_id=world.jurisdictions["330106"],
            jpath="/330000/330100/330106/", tests_per_hour=500, turnaround_hours=12,
        )  # fmt: skip
        session.add(lab)
        session.flush()
        results = {"T1": (start + dt.timedelta(minutes=70, hours=5), TestResult.negative)}
        results["T3"] = (start + dt.timedelta(minutes=150, hours=20), TestResult.positive)
        for barcode, (at, result) in results.items():
            tube_id = session.scalar(select(Tube.id).where(Tube.barcode == barcode))
            session.add(
                LabResult(
                    barcode=barcode, tube_id=tube_id, laboratory_id=lab.id, version=1, result=result,
                    tested_at=at, digest=barcode,
                )
            )  # fmt: skip
            session.execute(
                update(Tube).where(Tube.id == tube_id).values(result=result, result_version=1, resulted_at=at)
            )
    return round_id, {"start": start}


def test_coverage_counts_match_the_hand_made_example(
    app, world: World, settings: Settings, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = _sample(app, world, settings, frozen_clock)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        found = coverage.coverage(session, me, round_id)
    rows = [(c.name, c.expected, c.sampled, c.not_sampled, c.without_result) for c in found.communities]
    assert rows == [("保俶社区", 3, 2, 1, 0), ("宝石社区", 3, 2, 1, 1)]
    assert (found.expected, found.sampled, found.not_sampled, found.without_result) == (6, 4, 2, 1)
    assert found.communities[0].share == pytest.approx(2 / 3)


def test_turnaround_against_the_laboratory_deadline(
    app, world: World, settings: Settings, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = _sample(app, world, settings, frozen_clock)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        now = coverage.turnaround(session, me, round_id)
    assert (now.tubes, now.resulted, now.within_deadline, now.late, now.pending, now.overdue) == (
        3,
        2,
        1,
        1,
        1,
        0,
    )
    assert now.median_hours == pytest.approx(12.5)
    assert now.max_hours == pytest.approx(20.0)
    assert now.on_time_share == pytest.approx(0.5)
    # T2 (last swab at +80 min) has no result: 13 h 50 min on, 12.5 h after its swab, it is past its 12 hours.
    frozen_clock.advance(hours=13, minutes=50)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        later = coverage.turnaround(session, me, round_id)
    assert (later.pending, later.overdue) == (1, 1)


def test_progress_through_the_round(app, world: World, settings: Settings, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = _sample(app, world, settings, frozen_clock)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        points = coverage.progress(session, me, round_id)
    # Swabs at +10, +70, +80 and +150 minutes from the round's start.
    assert [p.sampled for p in points] == [1, 3, 4]
    assert points[-1].share == pytest.approx(4 / 6)
    assert points[1].at - points[0].at == dt.timedelta(hours=1)


def test_the_not_sampled_list_is_a_real_workbook(app, world: World, settings: Settings, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = _sample(app, world, settings, frozen_clock)
    vault = Vault(settings.encryption_key, settings.hash_key)
    # The testing coordinator may not reveal personal data: masked.
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        data = coverage.not_sampled_workbook(session, me, round_id, vault=vault)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["社区", "姓名", "身份证号", "手机号", "住址"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("保俶社区", "李*"), ("宝石社区", "李*")]
    assert all("*" in r[2] for r in rows[1:])
    # The community worker may: names in full, and the read is audited with whose data it was.
    with acting_as(app.state.db, "home_community_worker") as (session, me):
        data = coverage.not_sampled_workbook(
            session, me, round_id, vault=vault, community_id=world.jurisdictions[HOME_COMMUNITIES[1]],
            language="en",
        )  # fmt: skip
    rows = [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert rows[0] == ["Community", "Name", "ID number", "Phone", "Address"]
    f = home_people(world)[5]
    assert rows[1:] == [
        ["宝石社区", "李娜", world.id_numbers[f], rows[1][3], "330106001002 幸福路1号"],
    ]
    with app.state.db.unit_of_work() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "testing.not_sampled.export")
            .order_by(AuditEntry.id)
        ).all()
    assert len(entries) == 2
    assert '"revealed": false' in entries[0].detail
    assert '"revealed": true' in entries[1].detail and f'"person_ids": [{f}]' in entries[1].detail


def test_a_worker_inside_the_area_sees_their_part_and_others_nothing(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings, frozen_clock
) -> None:
    round_id, _ = _sample(app, world, settings, frozen_clock)
    with acting_as(app.state.db, "away_testing_coordinator") as (session, me):
        with pytest.raises(NotFound):
            coverage.coverage(session, me, round_id)
        with pytest.raises(NotFound):
            coverage.not_sampled(session, me, round_id)
