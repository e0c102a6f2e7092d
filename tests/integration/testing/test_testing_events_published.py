"""The event testing publishes for the response tasks and the overdue read the sweeper makes (SQLite and
PostgreSQL): ``PoolRecalled`` once, when the last member of a positive pool is located (by hand or by
their retest being sampled), never again; ``orders.overdue_by_community`` counts open orders due before
a day per community."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.models import Person
from fangkong.testing.events import PoolRecalled
from fangkong.testing.models import OrderState, TestOrder, TestPlace, Tube
from fangkong.testing.service import orders, recall, results
from testing_support import acting_as as _acting_as
from testing_support import bus_with_orders, pooled_tube, write_results

SAMPLED = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)
COORDINATOR = "home_testing_coordinator"


def acting_as(app, username: str):  # type: ignore[no-untyped-def]
    return _acting_as(app.state.db, username)


def _positive_pool(app, world: World, tmp_path: Path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    people = world.people[HOME_COUNTY]
    with acting_as(app, "home_laboratory") as (session, _me):
        pooled_tube(session, "P-POS", people[:3], scanned_at=SAMPLED)
    path = write_results(tmp_path / "lab.csv", [("P-POS", "阳性", "33.0", "32.1", "2026-12-06 14:00")])
    with acting_as(app, "home_laboratory") as (session, lab):
        results.load_results(session, lab, path, bus=bus_with_orders())
        tube = session.scalars(select(Tube).where(Tube.barcode == "P-POS")).one()
        return tube.id, tube.jpath


def _recorder() -> tuple[EventBus, list[DomainEvent]]:
    seen: list[DomainEvent] = []
    bus = EventBus()
    bus.subscribe(PoolRecalled, lambda _s, e: seen.append(e))
    return bus, seen


def _at(hour: float) -> dt.datetime:
    return dt.datetime(2026, 12, 6, tzinfo=dt.UTC) + dt.timedelta(hours=hour)


def test_locating_the_last_member_by_hand_publishes_pool_recalled_once(
    app, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    tube_id, jpath = _positive_pool(app, world, tmp_path)
    bus, seen = _recorder()
    with acting_as(app, COORDINATOR) as (session, me):
        members = recall.recall_list(session, me, tube_id=tube_id)
        assert len(members) == 3
        for member, hour in zip(members[:2], (8.0, 10.0), strict=True):
            recall.mark_located(session, bus, me, member.id, at=_at(hour))
        assert seen == []
        recall.mark_located(session, bus, me, members[2].id, at=_at(9.0))
        # The pool is recalled when its last member is found; the time is the latest locating time.
        assert seen == [PoolRecalled(tube_id=tube_id, jpath=jpath, located_at=_at(10.0))]
        recall.mark_located(session, bus, me, members[2].id, at=_at(12.0))  # again: nothing changes
    assert len(seen) == 1


def test_a_retest_that_locates_the_last_member_publishes_pool_recalled(
    app, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    tube_id, jpath = _positive_pool(app, world, tmp_path)
    bus, seen = _recorder()
    with acting_as(app, COORDINATOR) as (session, me):
        first, second, third = recall.recall_list(session, me, tube_id=tube_id)
        recall.mark_located(session, bus, me, first.id, at=_at(8.0))
        recall.record_retest(session, me, second.id, "R-0001", at=_at(9.0), bus=bus)
        assert seen == []
        recall.record_retest(session, me, third.id, "R-0002", at=_at(11.0), bus=bus)
        assert seen == [PoolRecalled(tube_id=tube_id, jpath=jpath, located_at=_at(11.0))]
        # Retesting someone already located (or marking them) publishes nothing more.
        recall.mark_located(session, bus, me, first.id, at=_at(12.0))
    assert len(seen) == 1


def test_overdue_by_community_counts_open_orders_due_before_the_day(app, world: World) -> None:  # type: ignore[no-untyped-def]
    day = dt.date(2026, 12, 6)
    people = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        assert orders.overdue_by_community(session, day) == []
        paths = {p: session.get(Person, p).jpath for p in people[:4]}  # type: ignore[union-attr]
        rows = [
            # (person, plan day, due, state)
            (people[0], 1, day - dt.timedelta(days=2), OrderState.open),
            (people[0], 2, day - dt.timedelta(days=1), OrderState.open),
            (people[1], 1, day - dt.timedelta(days=1), OrderState.open),
            (people[1], 2, day, OrderState.open),  # due today: not overdue yet
            (people[2], 1, day - dt.timedelta(days=1), OrderState.sampled),  # done
            (people[3], 1, day - dt.timedelta(days=3), OrderState.cancelled),
            (people[3], 2, day - dt.timedelta(days=1), OrderState.open),
        ]
        session.add_all(
            TestOrder(
                person_id=person,
                jpath=paths[person],
                source=f"contact:{person}",
                plan_day=plan_day,
                due_date=due,
                place=TestPlace.home,
                state=state,
            )
            for person, plan_day, due, state in rows
        )
        session.flush()
        expected: dict[str, int] = {}
        for person, _plan_day, due, state in rows:
            if state is OrderState.open and due < day:
                expected[paths[person]] = expected.get(paths[person], 0) + 1
        got = orders.overdue_by_community(session, day)
        assert got == sorted(expected.items())
        assert sum(n for _p, n in got) == 4
        assert len(got) == len({paths[p] for p in (people[0], people[1], people[3])})
        # Two days earlier nothing open was due yet (the cancelled order never counts).
        assert orders.overdue_by_community(session, day - dt.timedelta(days=2)) == []
