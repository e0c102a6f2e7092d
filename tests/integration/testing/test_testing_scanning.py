"""The scanner's bindings: idempotent by device and sequence, offline batches, and every refusal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from conftest import FOREIGN_COUNTY, World
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.models import AuditEntry
from fangkong.testing.models import (
    OrderState,
    TestOrder,
    TestPlace,
    Tube,
    TubeKind,
    TubeMember,
)
from fangkong.testing.service import rounds, scanning
from fangkong.testing.service.scanning import BindReport, Scan, ScanStatus
from testing_support import acting_as, home_people, home_round, make_scan, scan_codes


def _bind(app, scans: list[Scan], settings: Settings, user: str = "home_community_worker") -> BindReport:  # type: ignore[no-untyped-def]
    with acting_as(app.state.db, user) as (session, me):
        return scanning.bind(session, me, scans, codes=scan_codes(settings))


def _members(app) -> int:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(TubeMember)) or 0)


def _tube(app, barcode: str) -> Tube:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        tube = session.scalar(select(Tube).where(Tube.barcode == barcode))
        assert tube is not None
        session.expunge(tube)
        return tube


def _statuses(report: BindReport) -> list[str]:
    return [o.status for o in report.outcomes]


def test_a_batch_binds_and_a_resend_changes_nothing(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    people = home_people(world)
    batch = [
        make_scan(codes, p, "T0001", seq, round_id=round_id) for seq, p in enumerate(people[:4], start=1)
    ]
    report = _bind(app, batch, settings)
    assert _statuses(report) == [ScanStatus.recorded] * 4
    tube = _tube(app, "T0001")
    assert (tube.members, tube.pool_size, tube.kind, tube.round_id) == (4, 5, TubeKind.pooled, round_id)

    again = _bind(app, batch, settings)
    assert _statuses(again) == [ScanStatus.already_recorded] * 4
    assert all(o.text == "already recorded" for o in again.outcomes)
    assert _tube(app, "T0001").members == 4
    assert _members(app) == 4


def test_an_offline_batch_uploaded_later_loses_nothing_and_doubles_nothing(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings, frozen_clock
) -> None:
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    people = home_people(world)
    taken = clock.utcnow()
    # The device took six swabs into two tubes while the server was down...
    queue = [
        make_scan(
            codes,
            p,
            "T0100" if k < 3 else "T0101",
            100 + k,
            round_id=round_id,
            at=taken + dt.timedelta(minutes=k),
        )
        for k, p in enumerate(people)
    ]
    # ... two of which got through before the link dropped (their acknowledgements were lost).
    assert _bind(app, queue[:2], settings).recorded == 2
    frozen_clock.advance(hours=5)
    report = _bind(app, queue, settings)
    assert _statuses(report) == [ScanStatus.already_recorded] * 2 + [ScanStatus.recorded] * 4
    assert (report.recorded, report.already_recorded, report.refused) == (4, 2, 0)
    assert _members(app) == 6
    assert (_tube(app, "T0100").members, _tube(app, "T0101").members) == (3, 3)
    with app.state.db.unit_of_work() as session:
        scanned = sorted(session.scalars(select(TubeMember.scanned_at)))
        # The swab's time is the device's, not the upload's.
        assert scanned[0] == taken and scanned[-1] == taken + dt.timedelta(minutes=5)
        assert session.scalar(select(Tube.opened_at).where(Tube.barcode == "T0101")) == taken + dt.timedelta(
            minutes=3
        )


def test_a_tube_over_its_pool_size_is_refused(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world, pool_size=5)
    codes = scan_codes(settings)
    batch = [make_scan(codes, p, "T0200", seq, round_id=round_id) for seq, p in enumerate(home_people(world))]
    report = _bind(app, batch, settings)
    assert _statuses(report) == [ScanStatus.recorded] * 5 + [ScanStatus.refused]
    sixth = report.outcomes[5]
    assert sixth.field == "barcode"
    assert sixth.text == "tube T0200 is full: it holds 5 people and has 5"
    assert _tube(app, "T0200").members == 5
    # The sixth person goes into the next tube.
    assert _bind(
        app, [make_scan(codes, home_people(world)[5], "T0201", 99, round_id=round_id)], settings
    ).recorded


def test_a_person_scanned_twice_in_a_round_is_refused(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    person = home_people(world)[0]
    assert _bind(app, [make_scan(codes, person, "T0300", 1, round_id=round_id)], settings).recorded == 1
    # Another device, another tube, a later upload.
    report = _bind(app, [make_scan(codes, person, "T0301", 1, round_id=round_id, device="pda-02")], settings)
    assert report.refused == 1
    assert report.outcomes[0].text == "this person was already sampled in round 1 (tube T0300)"
    # Twice in one batch: the second is refused the same way, and the empty tube is never made.
    other = home_people(world)[1]
    report = _bind(
        app,
        [
            make_scan(codes, other, "T0302", 2, round_id=round_id),
            make_scan(codes, other, "T0303", 3, round_id=round_id),
        ],
        settings,
    )
    assert _statuses(report) == [ScanStatus.recorded, ScanStatus.refused]
    with app.state.db.unit_of_work() as session:
        assert session.scalar(select(Tube.id).where(Tube.barcode == "T0303")) is None


def test_forged_unknown_and_outside_codes_are_refused(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    real = codes.code_for(home_people(world)[0])
    person_id, check = real.split("-")[1:]
    forged = f"FK1-{int(person_id) + 1}-{check}"
    base = make_scan(codes, home_people(world)[0], "T0400", 1, round_id=round_id)
    scans = [
        Scan(**{**base.__dict__, "person_code": forged, "device_seq": 1}),
        Scan(**{**base.__dict__, "person_code": "not a code", "device_seq": 2}),
        # A well-made code of a person who does not exist.
        Scan(**{**base.__dict__, "person_code": codes.code_for(999_999), "device_seq": 3}),
        # A person of another county, outside the round's area.
        make_scan(codes, world.people[FOREIGN_COUNTY][0], "T0400", 4, round_id=round_id),
    ]
    report = _bind(app, scans, settings)
    assert _statuses(report) == [ScanStatus.refused] * 4
    assert [o.text for o in report.outcomes] == [
        "unknown or forged person code",
        "unknown or forged person code",
        "unknown or forged person code",
        "this person does not live in the round's area",
    ]
    assert {o.field for o in report.outcomes} == {"person_code"}
    assert _members(app) == 0


def test_bad_scans_are_refused_one_by_one(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    people = home_people(world)
    report = _bind(
        app,
        [
            make_scan(codes, people[0], "T0500", 1, round_id=round_id, pool_size=8),
            make_scan(codes, people[1], "", 2, round_id=round_id),
            make_scan(codes, people[2], "T0500", 3, round_id=round_id + 50),
            make_scan(codes, people[3], "T0500", 4, round_id=round_id),
            # The same sequence number again for another person: a device fault, not a resend.
            make_scan(codes, people[4], "T0500", 4, round_id=round_id),
            make_scan(codes, people[5], "T0500", 5, round_id=round_id, pool_size=10),
        ],
        settings,
    )
    texts = [(o.status, o.field, o.text) for o in report.outcomes]
    assert texts == [
        (ScanStatus.refused, "pool_size", "pool size must be one of 1, 5, 10, 20"),
        (ScanStatus.refused, "barcode", "the tube barcode must have 1 to 40 characters"),
        (ScanStatus.refused, "round_id", f"round {round_id + 50} not found"),
        (ScanStatus.recorded, "", ""),
        (ScanStatus.refused, "device_seq", "sequence 4 of device pda-01 was already used for another scan"),
        (ScanStatus.refused, "pool_size", "tube T0500 holds 5 people, not 10"),
    ]


def test_one_tube_per_household_in_a_sealed_area(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world, sealed=("330106001001",))
    codes = scan_codes(settings)
    first, alone, housemate, *unsealed = home_people(world)
    report = _bind(
        app,
        [
            make_scan(codes, first, "H0001", 1, round_id=round_id),
            make_scan(codes, alone, "H0001", 2, round_id=round_id),  # another household
            make_scan(codes, housemate, "H0002", 3, round_id=round_id),  # their household has a tube
            make_scan(codes, housemate, "H0001", 4, round_id=round_id),
            make_scan(codes, alone, "H0003", 5, round_id=round_id),
            make_scan(codes, unsealed[0], "H0003", 6, round_id=round_id),  # not sealed: no household tube
            make_scan(codes, unsealed[0], "T0600", 7, round_id=round_id),
            make_scan(codes, first, "T0600", 8, round_id=round_id),  # already sampled
        ],
        settings,
    )
    assert [(o.status, o.text) for o in report.outcomes] == [
        (ScanStatus.recorded, ""),
        (ScanStatus.refused, "tube H0001 holds another household"),
        (
            ScanStatus.refused,
            "this household is already in tube H0001: one tube per household in a sealed area",
        ),
        (ScanStatus.recorded, ""),
        (ScanStatus.recorded, ""),
        (ScanStatus.refused, "tube H0003 is a household tube of a sealed area"),
        (ScanStatus.recorded, ""),
        (ScanStatus.refused, "this person was already sampled in round 1 (tube H0001)"),
    ]
    assert (_tube(app, "H0001").kind, _tube(app, "H0001").members) == (TubeKind.household, 2)
    assert _tube(app, "T0600").kind is TubeKind.pooled
    # In a later call the household's tube is found from what is stored: a sealed resident cannot go into a
    # pooled tube either.
    with app.state.db.unit_of_work() as session:
        session.execute(TubeMember.__table__.delete().where(TubeMember.person_id == housemate))
        session.execute(Tube.__table__.update().where(Tube.barcode == "H0001").values(members=1))
    report = _bind(
        app,
        [
            make_scan(codes, housemate, "H0009", 20, round_id=round_id),
            make_scan(codes, housemate, "T0600", 21, round_id=round_id),
            make_scan(codes, housemate, "H0001", 22, round_id=round_id),
        ],
        settings,
    )
    assert [o.text for o in report.outcomes] == [
        "this household is already in tube H0001: one tube per household in a sealed area",
        "a sealed area takes one tube per household, not a pooled tube",
        "",
    ]


def test_people_under_management_need_a_single_tube(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    managed, other = home_people(world)[:2]
    with app.state.db.unit_of_work() as session:
        session.add(
            TestOrder(
                person_id=managed,
                jpath="/330000/330100/330106/330106001/330106001001/",
                source="contact:1",
                plan_day=3,
                due_date=clock.today() + dt.timedelta(days=2),
                place=TestPlace.home,
                state=OrderState.open,
            )
        )
    report = _bind(
        app,
        [
            make_scan(codes, managed, "T0700", 1, round_id=round_id),
            make_scan(codes, other, "T0700", 2, round_id=round_id),
            make_scan(codes, managed, "S0001", 3, round_id=round_id, pool_size=1),
        ],
        settings,
    )
    assert [o.text for o in report.outcomes] == [
        "this person is under management and must be sampled in a single tube",
        "",
        "",
    ]
    single = _tube(app, "S0001")
    assert (single.kind, single.pool_size, single.members) == (TubeKind.single, 1, 1)


def test_a_closed_round_takes_only_swabs_taken_before_it_closed(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings, frozen_clock
) -> None:
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    people = home_people(world)
    before = clock.utcnow()
    frozen_clock.advance(hours=2)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        rounds.close_round(session, me, round_id, community_positives=0)
    frozen_clock.advance(hours=1)
    report = _bind(
        app,
        [
            make_scan(codes, people[0], "T0800", 1, round_id=round_id, at=before),
            make_scan(codes, people[1], "T0800", 2, round_id=round_id),
        ],
        settings,
    )
    assert [o.text for o in report.outcomes] == ["", "round 1 was closed before this scan"]


def test_a_round_of_another_county_is_not_found_and_binds_are_audited(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    _, round_id = home_round(app.state.db, world)
    codes = scan_codes(settings)
    scan = make_scan(codes, home_people(world)[0], "T0900", 1, round_id=round_id)
    report = _bind(app, [scan], settings, user="away_community_worker")
    assert report.outcomes[0].text == f"round {round_id} not found"
    assert _bind(app, [scan], settings).recorded == 1
    with app.state.db.unit_of_work() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "testing.scan.bind"))
        assert entry is not None and entry.actor == "home_community_worker"
        assert '"recorded": 1' in entry.detail
