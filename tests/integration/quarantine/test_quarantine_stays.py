"""Stays (issue 12 items 4 and 7): check-in, room transfer, check-out on the plan's release day (moved by
a protocol switch), hospital transfer when a person turns out to be a case, roommates of a positive
becoming contacts, and the room going to cleaning and back to free. On SQLite and PostgreSQL.

The clock stands at 2026-12-06 20:19 UTC, 04:19 on 7 December in Beijing; the people are put under a
cn-9 close-contact plan counted from 6 December: centralized from the 7th to the 13th, released on the 14th.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import audit, clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.models import Jurisdiction
from fangkong.protocol import service as protocols
from fangkong.quarantine import service
from fangkong.quarantine.events import PersonCheckedIntoQuarantine, RoommatesExposed
from fangkong.quarantine.models import QuarantineRoom, RoomKind, RoomState, Stay, StayState
from fangkong.tracing import service as tracing
from fangkong.tracing.events import CaseReported
from fangkong.tracing.models import Classification
from fangkong.wiring import build_bus
from quarantine_support import (
    RoomSpec,
    case_with_contacts,
    make_site,
    manage,
    principal_of,
    room_ids,
    singles,
)
from testing_support import write_results

MANAGER = "home_quarantine_manager"
RELEASE = dt.date(2026, 12, 14)


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


def quarantine_bus(seen: list[DomainEvent]) -> EventBus:
    """The wiring's bus, with the quarantine handler of cases until the wiring lists it, and a recorder
    of what quarantine publishes."""
    bus = build_bus()
    if service.stays.convert_to_case not in bus.handlers_for(CaseReported):
        bus.subscribe(CaseReported, service.stays.convert_to_case)
    for kind in (PersonCheckedIntoQuarantine, RoommatesExposed):
        bus.subscribe(kind, lambda _s, e: seen.append(e))
    return bus


def _placed_and_checked_in(app, world: World, person: int, bus: EventBus) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(stay id, site id) of a person placed in room 101 of a new site and checked in."""
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(3))
        manage(session, [person])
        me = principal_of(session, MANAGER)
        stay = service.placement.place_in_room(session, me, person, room_ids(session, site)["101"])
        service.stays.check_in(session, bus, me, stay.id)
        return stay.id, site


def _room(session, site: int, number: str) -> QuarantineRoom:  # type: ignore[no-untyped-def]
    room = session.get(QuarantineRoom, room_ids(session, site)[number])
    assert room is not None
    return room


def _negative_result_of_the_test_on(app, tmp_path: Path, person: int, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    """The ordered test of that day sampled in a single tube and reported negative by the lab's file."""
    from fangkong.testing.models import TestOrder
    from fangkong.testing.service import orders, results

    with app.state.db.unit_of_work() as session:
        order = session.scalar(
            select(TestOrder).where(TestOrder.person_id == person, TestOrder.due_date == day)
        )
        assert order is not None
        orders.record_sample(
            session, principal_of(session, "home_testing_coordinator"), order.id, f"T{order.id:08d}"
        )
    lab_file = write_results(tmp_path / "results.csv", [[f"T{order.id:08d}", "阴性", "", "", f"{day} 20:00"]])
    with app.state.db.unit_of_work() as session:
        results.load_results(session, principal_of(session, "home_laboratory"), lab_file, bus=build_bus())


def test_check_in_then_out_on_the_plans_release_day_then_cleaning(
    app, world: World, frozen_clock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seen: list[DomainEvent] = []
    person = world.people[HOME_COUNTY][1]
    stay_id, site = _placed_and_checked_in(app, world, person, quarantine_bus(seen))
    assert [(e.person_id, e.source) for e in seen] == [(person, f"test:{person}")]  # type: ignore[attr-defined]
    with pytest.raises(Conflict), app.state.db.unit_of_work() as session:
        service.stays.check_in(session, build_bus(), principal_of(session, MANAGER), stay_id)
    with app.state.db.unit_of_work() as session:
        me = principal_of(session, MANAGER)
        (view,) = service.stays.stays_of_person(session, me, person)
        assert (view.state, view.release, view.room_number) == (StayState.checked_in, RELEASE, "101")
        assert service.stays.release_due(session, me) == 0
        # Another county's manager releases nothing of ours, even on the day.
        assert (
            service.stays.release_due(session, principal_of(session, "away_quarantine_manager"), on=RELEASE)
            == 0
        )
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 13, 23, 0)))  # the stage's last evening
    with app.state.db.unit_of_work() as session:
        assert service.stays.release_due(session, principal_of(session, MANAGER)) == 0
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 14, 9, 0)))
    with app.state.db.unit_of_work() as session:
        # The plan's day has come, but the stage's last test (day 7, the 13th) has no result: held.
        assert service.stays.release_due(session, principal_of(session, MANAGER)) == 0
        board = service.stays.room_board(session, principal_of(session, MANAGER), site)
        (occupant,) = [o for f in board.floors for r in f.rooms for o in r.people]
        assert occupant.held_for_test == dt.date(2026, 12, 13)
    _negative_result_of_the_test_on(app, tmp_path, person, dt.date(2026, 12, 13))
    with app.state.db.unit_of_work() as session:
        assert service.stays.release_due(session, principal_of(session, MANAGER)) == 1
    with app.state.db.unit_of_work() as session:
        stay = session.get(Stay, stay_id)
        assert stay.state is StayState.released and clock.local_day(stay.ended_at) == RELEASE
        room = _room(session, site, "101")
        assert (room.state, room.occupants, room.group_key) == (RoomState.cleaning, 0, None)
        # Not on the to-place list again: the stage is over.
        assert service.placement.to_place(session, principal_of(session, MANAGER)).total == 0
    with app.state.db.unit_of_work() as session:
        service.stays.record_cleaning(
            session, principal_of(session, MANAGER), _room(session, site, "101").id, note="终末消毒"
        )
    with app.state.db.unit_of_work() as session:
        assert _room(session, site, "101").state is RoomState.free
    with pytest.raises(Conflict), app.state.db.unit_of_work() as session:
        service.stays.record_cleaning(session, principal_of(session, MANAGER), _room(session, site, "101").id)


def test_a_protocol_switch_moves_the_release_day(app, world: World, frozen_clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    stay_id, site = _placed_and_checked_in(app, world, person, build_bus())
    with app.state.db.unit_of_work() as session:
        board = service.stays.room_board(session, principal_of(session, MANAGER), site)
        (occupant,) = next(r for f in board.floors for r in f.rooms if r.number == "101").people
        assert occupant.until == RELEASE
        county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == HOME_COUNTY))
        # cn-9-20: close contacts are 5 days in a site instead of 7.
        protocols.switch_protocol(session, audit.SYSTEM, county, "cn-9-20")
    new_release = RELEASE - dt.timedelta(days=2)
    with app.state.db.unit_of_work() as session:
        me = principal_of(session, MANAGER)
        board = service.stays.room_board(session, me, site)
        (occupant,) = next(r for f in board.floors for r in f.rooms if r.number == "101").people
        assert occupant.until == new_release
        assert [v.release for v in service.stays.stays_of_person(session, me, person)] == [new_release]
        assert service.stays.release_due(session, me, on=new_release - dt.timedelta(days=1)) == 0
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 12, 8, 0)))
    with app.state.db.unit_of_work() as session:
        # The new stage's last test is its day 5, the 11th: held until that test is negative.
        assert service.stays.release_due(session, principal_of(session, MANAGER)) == 0
    _negative_result_of_the_test_on(app, tmp_path, person, new_release - dt.timedelta(days=1))
    with app.state.db.unit_of_work() as session:
        assert service.stays.release_due(session, principal_of(session, MANAGER)) == 1
        assert session.get(Stay, stay_id).state is StayState.released


def test_a_room_transfer_follows_the_rules_and_empties_the_old_room(app, world: World) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    stay_id, site = _placed_and_checked_in(app, world, home[1], build_bus())
    with app.state.db.unit_of_work() as session:
        manage(session, [home[4]])
        service.placement.place_in_room(
            session, principal_of(session, MANAGER), home[4], _room(session, site, "103").id
        )
    with pytest.raises(Conflict) as refused, app.state.db.unit_of_work() as session:
        service.stays.move(session, principal_of(session, MANAGER), stay_id, _room(session, site, "103").id)
    assert refused.value.message == "a single room holds one person"
    with app.state.db.unit_of_work() as session:
        stay = service.stays.move(
            session, principal_of(session, MANAGER), stay_id, _room(session, site, "102").id
        )
        assert stay.state is StayState.checked_in
    with app.state.db.unit_of_work() as session:
        old, new = _room(session, site, "101"), _room(session, site, "102")
        assert (old.state, old.occupants) == (RoomState.cleaning, 0)
        assert (new.state, new.occupants) == (RoomState.occupied, 1)
        assert session.get(Stay, stay_id).room_id == new.id
    with pytest.raises(NotFound), app.state.db.unit_of_work() as session:
        service.stays.move(
            session, principal_of(session, "away_quarantine_manager"), stay_id, _room(session, site, "101").id
        )


def test_a_case_goes_to_hospital_and_its_roommates_become_contacts(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    seen: list[DomainEvent] = []
    bus = quarantine_bus(seen)
    # 张伟 (1960) and 李娜 (1980) of one household, contacts of 王芳's case, share a family room.
    _case, (grandfather_contact, mother_contact) = case_with_contacts(
        app.state.db, vault, home[4], [home[0], home[2]]
    )
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, [RoomSpec("301", RoomKind.family, 3, "3"), *singles(1)])
        me = principal_of(session, MANAGER)
        report = service.placement.place_people(session, me)
        assert report.placed == 2
        stays = list(session.scalars(select(Stay).order_by(Stay.person_id)))
        assert {s.room_id for s in stays} == {_room(session, site, "301").id}
        for stay in stays:
            service.stays.check_in(session, bus, me, stay.id)
    seen.clear()
    with app.state.db.unit_of_work() as session:
        new_case = tracing.convert_contact(
            session, bus, principal_of(session, "home_investigator"), mother_contact, Classification.confirmed
        )
        new_case_id = new_case.id
    with app.state.db.unit_of_work() as session:
        mother = session.scalar(select(Stay).where(Stay.person_id == home[2]))
        grandfather = session.scalar(select(Stay).where(Stay.person_id == home[0]))
        assert mother.state is StayState.hospital and mother.ended_at is not None
        assert grandfather.state is StayState.checked_in
        room = _room(session, site, "301")
        assert (room.state, room.occupants) == (RoomState.occupied, 1)
    (exposed,) = [e for e in seen if isinstance(e, RoommatesExposed)]
    assert (exposed.case_id, exposed.case_person_id, exposed.roommate_person_ids) == (
        new_case_id,
        home[2],
        (home[0],),
    )
    assert (exposed.site_name, exposed.room_number) == ("西湖宾馆", "301")
    assert exposed.since <= exposed.until
    # The grandfather is a case too now: nobody is left to expose, and the room goes to cleaning.
    seen.clear()
    with app.state.db.unit_of_work() as session:
        tracing.convert_contact(
            session,
            bus,
            principal_of(session, "home_investigator"),
            grandfather_contact,
            Classification.confirmed,
        )
    assert not [e for e in seen if isinstance(e, RoommatesExposed)]
    with app.state.db.unit_of_work() as session:
        room = _room(session, site, "301")
        assert (room.state, room.occupants, room.case_key) == (RoomState.cleaning, 0, None)


def test_the_room_board_shows_who_until_when_and_the_next_test(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    _stay, site = _placed_and_checked_in(app, world, person, build_bus())
    with app.state.db.unit_of_work() as session:
        board = service.stays.room_board(session, principal_of(session, MANAGER), site)
        assert [f.floor for f in board.floors] == ["1"]
        rooms = {r.number: r for r in board.floors[0].rooms}
        (occupant,) = rooms["101"].people
        assert "*" in occupant.name and occupant.until == RELEASE
        assert occupant.next_test == clock.today()  # cn-9: tested on the stage's first day
        assert (rooms["102"].state, rooms["102"].people) == (RoomState.free, ())
        assert board.count(RoomState.occupied) == 1
        with pytest.raises(NotFound):
            service.stays.room_board(session, principal_of(session, "away_quarantine_manager"), site)
        with pytest.raises(NotFound):
            service.stays.stays_of_person(session, principal_of(session, "away_quarantine_manager"), person)
        away_person = world.people[FOREIGN_COUNTY][0]
        with pytest.raises(NotFound):
            service.stays.stays_of_person(session, principal_of(session, MANAGER), away_person)
