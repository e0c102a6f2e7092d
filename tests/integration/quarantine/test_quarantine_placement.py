"""Placement (issue 12 items 4 and 5): the to-place list with its deadlines, bulk placement with the
reason for each person left out, and every placement rule, in bulk and when a coordinator places one
person by hand. On SQLite and PostgreSQL.

The seeded world: 西湖区 has two communities of three people each (born 1960, 1970, 1980); in each
community the first and third share an address, so a household. 海曙区 (another city) has three more.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, NotFound
from fangkong.quarantine import service
from fangkong.quarantine.models import QuarantineRoom, RoomKind, RoomState, SiteStatus, Stay
from quarantine_support import (
    RoomSpec,
    add_person,
    case_with_contacts,
    household_of,
    make_site,
    manage,
    principal_of,
    room_ids,
    singles,
)

MANAGER = "home_quarantine_manager"


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


def _stays(session) -> dict[int, Stay]:  # type: ignore[no-untyped-def]
    return {s.person_id: s for s in session.scalars(select(Stay))}


def test_the_to_place_list_counts_down_each_deadline(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        manage(session, home[:2])
        manage(session, home[2:3], category="contact_of_contact")  # cn-9: isolated at home, not placed
    with app.state.db.unit_of_work() as session:
        page = service.placement.to_place(session, principal_of(session, MANAGER))
        assert [r.person_id for r in page.items] == home[:2]
        row = page.items[0]
        # cn-9: close contacts reach quarantine within 8 h of identification (protocols.md §7).
        assert row.deadline_at - row.identified_at == dt.timedelta(hours=8)
        assert row.hours_left == 8.0 and not row.late and page.late == 0
        # Counted from yesterday: the stage is today to the sixth day after, released the day after.
        assert row.release == clock.today() + dt.timedelta(days=7)
        assert row.category == "close_contact" and row.name != "" and "*" in row.name
        assert (
            service.placement.to_place(session, principal_of(session, "away_quarantine_manager")).total == 0
        )
    frozen_clock.advance(hours=9)
    with app.state.db.unit_of_work() as session:
        page = service.placement.to_place(session, principal_of(session, MANAGER))
        assert page.items[0].hours_left == -1.0 and page.late == 2


def test_a_later_exposure_moves_the_release_day(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    with app.state.db.unit_of_work() as session:
        manage(session, [person])
        first = service.placement.to_place(session, principal_of(session, MANAGER)).items[0]
        manage(session, [person], clock_date=clock.today())  # exposed again today: the plan restarts
        again = service.placement.to_place(session, principal_of(session, MANAGER)).items[0]
    assert again.release == first.release + dt.timedelta(days=1)
    assert again.identified_at == first.identified_at  # the deadline still counts from identification


def test_bulk_placement_fills_single_rooms_and_says_why_the_rest_wait(app, world: World) -> None:  # type: ignore[no-untyped-def]
    community = world.people[HOME_COUNTY]
    people = [community[1], community[4], community[3]]  # three households
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(2))
        manage(session, people)
    with app.state.db.unit_of_work() as session:
        report = service.placement.place_people(session, principal_of(session, MANAGER))
    assert report.placed == 2 and report.by_site == [(site, "西湖宾馆", 2)]
    assert [(u.reason, str(u.text)) for u in report.unplaced] == [
        ("no_capacity", service.placement.rules.UNPLACED_REASONS["no_capacity"])
    ]
    assert report.own_county_share == 1.0
    with app.state.db.unit_of_work() as session:
        stays = _stays(session)
        assert len(stays) == 2 and len({s.room_id for s in stays.values()}) == 2
        rooms = session.scalars(select(QuarantineRoom).where(QuarantineRoom.site_id == site)).all()
        assert {(r.state, r.occupants) for r in rooms} == {(RoomState.occupied, 1)}
        # Placed people leave the list; the one left out is still on it.
        assert service.placement.to_place(session, principal_of(session, MANAGER)).total == 1
        # Asking again for someone already placed says so.
        again = service.placement.place_people(session, principal_of(session, MANAGER), [next(iter(stays))])
        assert [u.reason for u in again.unplaced] == ["not_to_place"] and again.placed == 0


def test_a_household_of_the_same_cases_shares_a_family_room(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    # 张伟 (1960) and 李娜 (1980) of 保俶社区 live together; 王芳 (1970) of 宝石社区 is the case.
    with app.state.db.unit_of_work() as session:
        assert household_of(session, home[0]) == household_of(session, home[2])
        site = make_site(session, world, [*singles(2), RoomSpec("301", RoomKind.family, 3, "3")])
    case_id, _contacts = case_with_contacts(app.state.db, vault, home[4], [home[0], home[2]])
    with app.state.db.unit_of_work() as session:
        rows = service.placement.to_place(session, principal_of(session, MANAGER)).items
        assert {r.person_id for r in rows} == {home[0], home[2]}
        assert {r.index_case_ids for r in rows} == {(case_id,)}
        report = service.placement.place_people(session, principal_of(session, MANAGER))
    assert report.placed == 2
    with app.state.db.unit_of_work() as session:
        stays = _stays(session)
        family = room_ids(session, site)["301"]
        assert {stays[home[0]].room_id, stays[home[2]].room_id} == {family}
        room = session.get(QuarantineRoom, family)
        assert (room.occupants, room.case_key) == (2, str(case_id))


def test_contacts_of_different_cases_never_share_a_room(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    # One household, but its two members are contacts of two different cases.
    first_case, _ = case_with_contacts(app.state.db, vault, home[4], [home[0]])
    second_case, _ = case_with_contacts(app.state.db, vault, home[5], [home[2]])
    assert first_case != second_case
    with app.state.db.unit_of_work() as session:
        make_site(session, world, [RoomSpec("301", RoomKind.family, 4, "3"), *singles(2)])
    with app.state.db.unit_of_work() as session:
        report = service.placement.place_people(session, principal_of(session, MANAGER))
        assert report.placed == 2
        stays = _stays(session)
        assert stays[home[0]].room_id != stays[home[2]].room_id
        assert stays[home[0]].group_key != stays[home[2]].group_key


def test_by_hand_a_contact_of_another_case_may_not_join_a_room(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    case_with_contacts(app.state.db, vault, home[4], [home[0]])
    case_with_contacts(app.state.db, vault, home[5], [home[2]])
    with app.state.db.unit_of_work() as session:
        family = room_ids(session, make_site(session, world, [RoomSpec("301", RoomKind.family, 4, "3")]))[
            "301"
        ]
        service.placement.place_in_room(session, principal_of(session, MANAGER), home[0], family)
    with pytest.raises(Conflict) as refused, app.state.db.unit_of_work() as session:
        service.placement.place_in_room(session, principal_of(session, MANAGER), home[2], family)
    assert refused.value.message == "contacts of different cases are never put together"


def test_a_minor_goes_with_a_carer_who_is_never_old_or_chronically_ill(
    app, world: World, vault: Vault
) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        # An 8-year-old of 李娜's (1980) and 张伟's (1960) household.
        child = add_person(
            session, vault, birth=dt.date(2018, 5, 1), address="330106001001 幸福路1号", name="张小明"
        )
        assert (
            household_of(session, child) == household_of(session, home[0]) == household_of(session, home[2])
        )
        site = make_site(session, world, [*singles(3), RoomSpec("301", RoomKind.family, 2, "3")])
    with app.state.db.unit_of_work() as session:
        # Only the 66-year-old is a contact at first: never a carer, so the child waits.
        manage(session, [child, home[0]])
        report = service.placement.place_people(session, principal_of(session, MANAGER), [child])
        assert [(u.person_id, u.reason) for u in report.unplaced] == [(child, "no_carer")]
        assert report.placed == 0
    with app.state.db.unit_of_work() as session:
        # 李娜 is a contact too but chronically ill: still no carer.
        manage(session, [home[2]])
        service.placement.set_needs(session, principal_of(session, MANAGER), home[2], False, True, "糖尿病")
        report = service.placement.place_people(session, principal_of(session, MANAGER), [child, home[2]])
        assert {u.person_id: u.reason for u in report.unplaced}[child] == "no_carer"
        session.rollback()  # nothing of this try is kept
    with app.state.db.unit_of_work() as session:
        manage(session, [home[2]])
        service.placement.set_needs(session, principal_of(session, MANAGER), home[2], False, False)
        report = service.placement.place_people(session, principal_of(session, MANAGER))
        assert report.placed == 3 and report.unplaced == []
    with app.state.db.unit_of_work() as session:
        stays = _stays(session)
        family = room_ids(session, site)["301"]
        assert stays[child].room_id == stays[home[2]].room_id == family
        assert stays[home[2]].carer and not stays[child].carer
        assert stays[home[0]].room_id != family  # the grandfather in a single room


def test_manual_placement_checks_every_rule_with_a_clear_message(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        child = add_person(
            session, vault, birth=dt.date(2016, 1, 1), address="330106001002 幸福路1号", name="王小红"
        )
        site = make_site(
            session,
            world,
            [
                *singles(2),
                RoomSpec("301", RoomKind.family, 3, "3"),
                RoomSpec("401", RoomKind.accessible, 2, "4"),
            ],
        )
        closed = make_site(session, world, singles(1), name="储备宾馆", status=SiteStatus.reserve)
        away = make_site(session, world, singles(1), code=FOREIGN_COUNTY, name="海曙宾馆")
        manage(session, [*home, child])
        rooms = room_ids(session, site)
        closed_room = room_ids(session, closed)["101"]
        away_room = room_ids(session, away)["101"]

    def refused(person: int, room: int, carer_for: int | None = None) -> str:
        with pytest.raises(Conflict) as error, app.state.db.unit_of_work() as session:
            service.placement.place_in_room(
                session, principal_of(session, MANAGER), person, room, carer_for=carer_for
            )
        return error.value.message

    def place(person: int, room: int, carer_for: int | None = None) -> Stay:
        with app.state.db.unit_of_work() as session:
            return service.placement.place_in_room(
                session, principal_of(session, MANAGER), person, room, carer_for=carer_for
            )

    place(home[1], rooms["101"])
    assert refused(home[4], rooms["101"]) == "a single room holds one person"
    assert refused(home[1], rooms["102"]) == "this person is already placed"
    assert refused(child, rooms["102"]) == (
        "a minor or a person needing care goes with a carer to an accessible or family room"
    )
    assert refused(home[4], closed_room) == "the site is not open"
    with pytest.raises(NotFound), app.state.db.unit_of_work() as session:
        service.placement.place_in_room(session, principal_of(session, MANAGER), home[4], away_room)
    # 宝石社区's household: 张伟 (1960) and 李娜 (1980) with the child; a family room takes them all.
    place(child, rooms["301"])
    assert (
        refused(home[5], rooms["301"], carer_for=home[1])
        == "place the person to be cared for in this room first"
    )
    assert refused(home[3], rooms["301"], carer_for=child) == (
        "people over 60, chronically ill or needing care themselves are never carers"
    )
    carer = place(home[5], rooms["301"], carer_for=child)
    assert carer.carer
    # Someone of another household may not join it.
    assert refused(home[2], rooms["301"]) == "only one household may share a family room"
    with app.state.db.unit_of_work() as session:
        room = session.get(QuarantineRoom, rooms["301"])
        assert (room.occupants, room.state) == (2, RoomState.occupied)
    with app.state.db.unit_of_work() as session:
        session.execute(text(f"UPDATE quarantine_rooms SET state = 'cleaning' WHERE id = {rooms['401']}"))
    assert refused(home[2], rooms["401"]) == "the room is not free (being cleaned or out of service)"


def test_own_county_first_then_the_nearest_site(app, world: World) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        # The far site (another city) comes first in the tier order; the county's own is last.
        far = make_site(session, world, singles(5), code=FOREIGN_COUNTY, name="海曙宾馆", tier=1)
        near = make_site(session, world, singles(5), code="330102", name="上城宾馆", tier=1)
        own = make_site(session, world, singles(2), name="西湖宾馆", tier=3)
        manage(session, [home[1], home[4], home[3]])
    with app.state.db.unit_of_work() as session:
        report = service.placement.place_people(session, principal_of(session, "province_admin"))
    assert report.placed == 3
    assert {sid: n for sid, _name, n in report.by_site} == {own: 2, near: 1}
    assert far not in {sid for sid, _n, _c in report.by_site}
    assert report.own_county_share == pytest.approx(2 / 3)


def test_a_person_holds_one_active_stay_at_most(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(2))
        manage(session, [person])
        rooms = room_ids(session, site)
        stay = service.placement.place_in_room(session, principal_of(session, MANAGER), person, rooms["101"])
        values = {
            c: getattr(stay, c)
            for c in ("jpath", "site_id", "source", "group_key", "identified_at", "deadline_at")
        }
    # The database refuses a second active stay whatever the code above it does.
    with app.state.db.unit_of_work() as session:
        session.add(Stay(person_id=person, room_id=rooms["102"], placed_by="x", **values))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_needs_and_the_list_stay_in_scope(app, world: World) -> None:  # type: ignore[no-untyped-def]
    away = world.people[FOREIGN_COUNTY][0]
    with app.state.db.unit_of_work() as session:
        manage(session, [away])
        with pytest.raises(NotFound):
            service.placement.set_needs(session, principal_of(session, MANAGER), away, True, False)
        with pytest.raises(NotFound):
            service.placement.place_people(session, principal_of(session, MANAGER), [away])
        assert service.placement.to_place(session, principal_of(session, MANAGER)).total == 0
        assert (
            service.placement.to_place(session, principal_of(session, "away_quarantine_manager")).total == 1
        )
