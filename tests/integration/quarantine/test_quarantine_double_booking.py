"""No double booking (issue 12 item 8), enforced by the database: a placement is one conditional UPDATE
of the room (a row lock on PostgreSQL, the write lock on SQLite), a CHECK keeps occupants within the
beds, and a partial unique index keeps one active stay per person.

Two coordinators who both saw a room free: on both databases in turn (the second works from what it
read before the first committed), and on both at the same moment from two threads that wait for each
other after reading, so that both pass every check the code makes before either writes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from conftest import HOME_COUNTY, World
from fangkong.core.errors import Conflict
from fangkong.quarantine import service
from fangkong.quarantine.models import QuarantineRoom, Stay
from quarantine_support import make_site, manage, principal_of, room_ids, singles

MANAGER = "home_quarantine_manager"


def _occupancy(app, site: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(stays, occupants over all rooms) of a site."""
    with app.state.db.unit_of_work() as session:
        stays = session.scalar(select(func.count()).select_from(Stay).where(Stay.site_id == site)) or 0
        occupants = session.scalar(
            select(func.sum(QuarantineRoom.occupants)).where(QuarantineRoom.site_id == site)
        )
        return stays, occupants or 0


def test_a_coordinator_working_from_a_stale_view_never_double_books(app, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(3))
        manage(session, home[:4])
        rooms = room_ids(session, site)
    with app.state.db.unit_of_work() as first:
        me = principal_of(first, MANAGER)
        stale = service.placement.free_rooms(first, me)
        assert len(stale[0]) == 3
        # Meanwhile another coordinator fills room 101 and commits.
        with app.state.db.unit_of_work() as second:
            service.placement.place_in_room(second, principal_of(second, MANAGER), home[3], rooms["101"])
        monkeypatch.setattr(service.placement, "free_rooms", lambda _s, _p: stale)
        report = service.placement.place_people(first, me, home[:3])
    # The room taken meanwhile is refused by its UPDATE; its person waits with the reason.
    assert report.placed == 2
    assert [u.reason for u in report.unplaced] == ["room_taken"]
    assert str(report.unplaced[0].text) == "the room was taken by another placement at the same moment"
    assert _occupancy(app, site) == (3, 3)
    with app.state.db.unit_of_work() as session:
        assert {r.occupants for r in session.scalars(select(QuarantineRoom))} == {1}


def test_the_database_refuses_more_occupants_than_beds(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(1))
    with pytest.raises(IntegrityError), app.state.db.unit_of_work() as session:
        session.execute(text(f"UPDATE quarantine_rooms SET occupants = beds + 1 WHERE site_id = {site}"))


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads at once; what each returned or raised."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _after_reading(monkeypatch, name: str, parties: int) -> None:  # type: ignore[no-untyped-def]
    """Make ``placement.<name>`` wait for every racer once it has read, so all of them write after all
    of them have read."""
    barrier = threading.Barrier(parties, timeout=20)
    original = getattr(service.placement, name)

    def waiting(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return found

    monkeypatch.setattr(service.placement, name, waiting)


def test_two_coordinators_at_the_same_moment_place_one_person_in_a_single_room(
    app, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(1))
        manage(session, [home[1], home[4]])
        room = room_ids(session, site)["101"]
    _after_reading(monkeypatch, "room_refusal", 2)

    def place(person: int) -> Callable[[], Stay]:
        def go() -> Stay:
            with app.state.db.unit_of_work() as session:
                return service.placement.place_in_room(session, principal_of(session, MANAGER), person, room)

        return go

    results = _race([place(home[1]), place(home[4])])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Stay"]
    (refused,) = [r for r in results if isinstance(r, Conflict)]
    assert refused.message == "the room was taken by another placement at the same moment"
    assert _occupancy(app, site) == (1, 1)


def test_two_coordinators_at_the_same_moment_never_give_a_person_two_stays(
    app, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(2))
        manage(session, [person])
        rooms = room_ids(session, site)
    _after_reading(monkeypatch, "room_refusal", 2)

    def place(room: int) -> Callable[[], Stay]:
        def go() -> Stay:
            with app.state.db.unit_of_work() as session:
                return service.placement.place_in_room(session, principal_of(session, MANAGER), person, room)

        return go

    results = _race([place(rooms["101"]), place(rooms["102"])])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Stay"]
    (refused,) = [r for r in results if isinstance(r, Conflict)]
    assert refused.message == "this person is already placed"
    assert _occupancy(app, site) == (1, 1)


def test_two_bulk_placements_at_the_same_moment_share_the_rooms_without_double_booking(
    app, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        site = make_site(session, world, singles(2))
        manage(session, [home[1], home[3], home[4], home[5]])
    _after_reading(monkeypatch, "free_rooms", 2)

    def place(people: list[int]) -> Callable[[], service.placement.PlacementReport]:
        def go() -> service.placement.PlacementReport:
            with app.state.db.unit_of_work() as session:
                return service.placement.place_people(session, principal_of(session, MANAGER), people)

        return go

    results = _race([place([home[1], home[3]]), place([home[4], home[5]])])
    assert all(isinstance(r, service.placement.PlacementReport) for r in results), results
    # Both solved for the same two free rooms; the database gave each room to one of them.
    assert sum(r.placed for r in results) == 2
    assert sorted(u.reason for r in results for u in r.unplaced) == ["room_taken", "room_taken"]
    assert _occupancy(app, site) == (2, 2)
