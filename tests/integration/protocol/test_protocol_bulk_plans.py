"""Plans for a batch of placements are written set-based and come out as single placements would
(issue 11 item 17: the plan handler was most of a 100,000-contact import's time).

A batch costs the same number of statements whether its people live in one community or in many,
and stored plans read back exactly as placing the same people one at a time leaves them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from conftest import HOME_COUNTY, World
from fangkong.core.events import PeoplePlacedUnderManagement, PersonPlacedUnderManagement
from fangkong.core.models import Jurisdiction, Person
from fangkong.protocol.models import ManagementPlanRecord, ProtocolAssignment
from fangkong.wiring import build_bus

TOWNSHIP = "/330000/330100/330106/330106001/"


def _community(n: int) -> str:
    """A community path under the home county's first township (placements name where, not who)."""
    return f"{TOWNSHIP}330106001{n:03d}/"


@contextmanager
def _statements(engine) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _batch(people: list[int], communities: int, source: str) -> tuple[PersonPlacedUnderManagement, ...]:
    return tuple(
        PersonPlacedUnderManagement(
            person, _community(1 + (k % communities)), "close_contact", dt.date(2022, 7, 1), f"{source}{k}"
        )
        for k, person in enumerate(people * 10)
    )


def _plans(app, people: list[int]) -> dict[tuple[int, str], tuple[object, ...]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return {
            (r.person_id, r.source): (
                r.category,
                r.protocol_id,
                r.clock_date,
                r.end_date,
                r.state.value,
                r.jpath,
            )
            for r in session.scalars(
                select(ManagementPlanRecord).where(ManagementPlanRecord.person_id.in_(people))
            )
        }


def test_a_batch_over_many_communities_costs_what_a_batch_over_one_does(app, world: World) -> None:  # type: ignore[no-untyped-def]
    people = world.people[HOME_COUNTY]
    bus = build_bus()
    counts = []
    for communities, source in ((1, "one:"), (30, "many:")):
        placements = _batch(people, communities, source)
        with app.state.db.unit_of_work() as session, _statements(app.state.db.engine) as seen:
            bus.publish(session, PeoplePlacedUnderManagement(placements))
        counts.append(len(seen))
    assert counts[0] == counts[1], f"statements for 1 community vs 30: {counts}"
    plans = _plans(app, people)
    assert len(plans) == 2 * len(people) * 10
    assert {p[1] for p in plans.values()} == {"cn-9"}
    assert {p[5] for key, p in plans.items() if key[1].startswith("many:")} == {
        _community(n) for n in range(1, 31)
    }


def test_a_batch_plans_as_single_placements_do(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """Batches against single placements, over a township with its own protocol, restarts, an earlier
    exposure that changes nothing, an upgrade to another category, and an unmanaged category."""
    people = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        township = session.scalar(select(Jurisdiction).where(Jurisdiction.path == TOWNSHIP))
        session.add(
            ProtocolAssignment(
                jurisdiction_id=township.id, jpath=TOWNSHIP, protocol_id="cn-9-20", assigned_by="test"
            )
        )
        paths = {pid: session.get(Person, pid).jpath for pid in people}
    a, b, c = people[:3]
    county_path = "/330000/330100/330106/"

    def rounds(tag: str) -> list[list[PersonPlacedUnderManagement]]:
        def place(
            person: int, path: str, category: str, day: int, source: str
        ) -> PersonPlacedUnderManagement:
            return PersonPlacedUnderManagement(
                person, path, category, dt.date(2022, 7, day), f"{tag}{source}"
            )

        return [
            [
                place(a, paths[a], "close_contact", 1, "c1"),
                place(b, county_path, "close_contact", 1, "c2"),
                place(c, paths[c], "contact_of_contact", 2, "c3"),
            ],
            [
                place(a, paths[a], "close_contact", 4, "c1"),  # later: restarts
                place(b, county_path, "close_contact", 1, "c2"),
                place(b, county_path, "close_contact", 1, "c2"),  # the same twice in one batch
            ],
            [
                place(a, paths[a], "close_contact", 2, "c1"),  # earlier: changes nothing
                place(c, paths[c], "close_contact", 3, "c3"),  # upgraded
                place(b, county_path, "general_contact", 1, "c4"),  # not managed
            ],
        ]

    bus = build_bus()
    for batch in rounds("batch:"):
        with app.state.db.unit_of_work() as session:
            bus.publish(session, PeoplePlacedUnderManagement(tuple(batch)))
    for batch in rounds("single:"):
        for placement in batch:
            with app.state.db.unit_of_work() as session:
                bus.publish(session, placement)
    plans = _plans(app, people)
    batched = {(p, s.removeprefix("batch:")): v for (p, s), v in plans.items() if s.startswith("batch:")}
    single = {(p, s.removeprefix("single:")): v for (p, s), v in plans.items() if s.startswith("single:")}
    assert batched == single
    assert batched[(a, "c1")][2] == dt.date(2022, 7, 4)
    assert batched[(c, "c3")][0] == "close_contact"
    # The township's own protocol for people managed there; the county's elsewhere.
    assert paths[a].startswith(TOWNSHIP)
    assert batched[(a, "c1")][1] == "cn-9-20"
    assert batched[(b, "c2")][1] == "cn-9"
