"""Test orders from plans: made from a plan's test days, moved and cancelled by a re-plan, worklists,
overdue tests, a positive ordered test opening a case, and what holds a release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import PersonReleasedFromManagement
from fangkong.core.i18n import Message
from fangkong.testing.models import OrderState, TestOrder, TestPlace, TestResult
from fangkong.testing.service import orders, results
from fangkong.tracing.models import Case
from fangkong.tracing.rules import subject_key
from testing_support import acting_as as _acting_as
from testing_support import bus_with_orders, place, write_results

COORDINATOR = "home_testing_coordinator"


def acting_as(app, username: str):  # type: ignore[no-untyped-def]
    return _acting_as(app.state.db, username)


SOURCE = "contact:901"


def _orders(session, person_id: int) -> dict[int, TestOrder]:  # type: ignore[no-untyped-def]
    return {o.plan_day: o for o in session.scalars(select(TestOrder).where(TestOrder.person_id == person_id))}


def test_a_plans_test_days_become_orders_with_due_date_place_and_specimen(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][0]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, _me):
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        made = _orders(session, person)
        # cn-9 close contact, day 0 = exposure 12-05: centralized days 1, 2, 3, 5, 7; home day 3 (day 10).
        assert {d: (o.due_date, o.place, o.last_test) for d, o in made.items()} == {
            1: (dt.date(2026, 12, 6), TestPlace.quarantine_site, False),
            2: (dt.date(2026, 12, 7), TestPlace.quarantine_site, False),
            3: (dt.date(2026, 12, 8), TestPlace.quarantine_site, False),
            5: (dt.date(2026, 12, 10), TestPlace.quarantine_site, False),
            7: (dt.date(2026, 12, 12), TestPlace.quarantine_site, False),
            10: (dt.date(2026, 12, 15), TestPlace.home, True),
        }
        assert {(o.state, o.method, o.specimen, o.source) for o in made.values()} == {
            (OrderState.open, "pcr", "oropharyngeal", SOURCE)
        }
        # Syncing again changes nothing.
        again = orders.sync_orders(session, "/330000/", person_ids=[person])
        assert (again.created, again.moved, again.cancelled, again.unchanged) == (0, 0, 0, 6)


def test_a_replan_moves_and_cancels_open_orders_and_leaves_sampled_ones(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][0]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, me):
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
        first = _orders(session, person)[1]
        orders.record_sample(session, me, first.id, "S-0001")
    with acting_as(app, COORDINATOR) as (session, _me):
        # The contact is reclassified: the same source's plan becomes a contact of a contact's (days 1, 4, 7).
        place(session, bus, person, "contact_of_contact", dt.date(2026, 12, 5), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        made = _orders(session, person)
        assert made[1].state is OrderState.sampled and made[1].due_date == dt.date(2026, 12, 6)
        for day in (2, 3, 5, 10):
            assert made[day].state is OrderState.cancelled
            assert Message.loads(made[day].cancelled_reason).msgid == "the plan no longer has this test"
        assert (made[4].state, made[4].due_date, made[4].place) == (
            OrderState.open,
            dt.date(2026, 12, 9),
            TestPlace.home,
        )
        assert (made[7].state, made[7].place, made[7].last_test) == (OrderState.open, TestPlace.home, True)
    with acting_as(app, COORDINATOR) as (session, _me):
        # A later exposure restarts the plan a day later: the open orders move, the sampled one stays.
        place(session, bus, person, "contact_of_contact", dt.date(2026, 12, 6), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        made = _orders(session, person)
        assert made[1].due_date == dt.date(2026, 12, 6) and made[1].state is OrderState.sampled
        assert (made[4].due_date, made[7].due_date) == (dt.date(2026, 12, 10), dt.date(2026, 12, 13))
        assert made[2].state is OrderState.cancelled
    with acting_as(app, COORDINATOR) as (session, _me):
        bus.publish(session, PersonReleasedFromManagement(person_id=person, source=SOURCE))
    with acting_as(app, COORDINATOR) as (session, _me):
        made = _orders(session, person)
        assert {d: o.state for d, o in made.items() if d in (4, 7)} == {
            4: OrderState.cancelled,
            7: OrderState.cancelled,
        }
        assert made[1].state is OrderState.sampled


def test_a_plan_wanting_a_cancelled_test_again_reopens_that_order(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][1]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, _me):
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        place(session, bus, person, "contact_of_contact", dt.date(2026, 12, 5), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        assert _orders(session, person)[2].state is OrderState.cancelled
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
    with acting_as(app, COORDINATOR) as (session, _me):
        made = _orders(session, person)
        assert made[2].state is OrderState.open and made[2].cancelled_reason == ""
        assert made[4].state is OrderState.cancelled


def test_worklists_per_community_and_place_and_the_overdue_list(app, world: World) -> None:  # type: ignore[no-untyped-def]
    first, second, third = world.people[HOME_COUNTY][:3]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, me):
        place(session, bus, first, "close_contact", dt.date(2026, 12, 5), "contact:1")
        place(session, bus, second, "contact_of_contact", dt.date(2026, 12, 5), "contact:2")
        # Three days ago: day 1 and day 2 were due before today and nobody sampled them.
        place(session, bus, third, "close_contact", dt.date(2026, 12, 3), "contact:3")
        today = orders.worklist(session, me, dt.date(2026, 12, 6))
        assert {(i.person_id, i.plan_day) for i in today.items} == {(first, 1), (second, 1), (third, 3)}
        assert all(i.person_name for i in today.items)
        at_home = orders.worklist(session, me, dt.date(2026, 12, 6), place=TestPlace.home)
        assert {i.person_id for i in at_home.items} == {second}
        community = session.get(TestOrder, today.items[0].id)
        assert community is not None
        j = world.jurisdictions["330106001001"]
        in_community = orders.worklist(session, me, dt.date(2026, 12, 6), community_id=j)
        assert {i.jpath for i in in_community.items} <= {i.jpath for i in today.items}
        assert all(i.jpath.endswith("/330106001001/") for i in in_community.items)
        late = orders.overdue(session, me, on=dt.date(2026, 12, 6))
        assert [(i.person_id, i.plan_day, i.due_date) for i in late.items] == [
            (third, 1, dt.date(2026, 12, 4)),
            (third, 2, dt.date(2026, 12, 5)),
        ]
    with acting_as(app, "away_testing_coordinator") as (session, other):
        assert orders.worklist(session, other, dt.date(2026, 12, 6)).total == 0
        with pytest.raises(NotFound):
            orders.worklist(session, other, dt.date(2026, 12, 6), community_id=j)
        with pytest.raises(NotFound):
            orders.history_of(session, other, first)


def test_a_positive_ordered_test_opens_a_case_and_shows_in_the_history(
    app, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][0]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, me):
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
        first = _orders(session, person)[1]
        orders.record_sample(
            session, me, first.id, "S-0001", at=dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC)
        )
        # The same sample sent twice changes nothing; a second tube for it is refused.
        orders.record_sample(session, me, first.id, "S-0001")
        with pytest.raises(Conflict):
            orders.record_sample(session, me, first.id, "S-0002")
    path = write_results(tmp_path / "lab.csv", [("S-0001", "阳性", "28.1", "27.5", "2026-12-06 14:00")])
    with acting_as(app, "home_laboratory") as (session, lab):
        report = results.load_results(session, lab, path, bus=bus)
        assert (report.loaded, report.positive_people) == (1, 1)
    with acting_as(app, COORDINATOR) as (session, me):
        order = session.get(TestOrder, first.id)
        assert order is not None
        assert (order.state, order.result) == (OrderState.resulted, TestResult.positive)
        case = session.scalar(select(Case).where(Case.subject_key == subject_key(person, None)))
        assert case is not None and case.sampling_date == dt.date(2026, 12, 6)
        history = orders.history_of(session, me, person)
        assert [(h.kind, h.barcode, h.result) for h in history if h.barcode] == [
            ("order", "S-0001", TestResult.positive)
        ]


def test_a_negative_last_test_clears_release_and_a_missing_one_holds_it(
    app, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tested, untested, pending = world.people[HOME_COUNTY][:3]
    bus = bus_with_orders()
    with acting_as(app, COORDINATOR) as (session, me):
        # Last exposure 11-25: the last test (plan day 10) fell on 12-05.
        for person, source in ((tested, "contact:1"), (untested, "contact:2")):
            place(session, bus, person, "close_contact", dt.date(2026, 11, 25), source)
        place(session, bus, pending, "close_contact", dt.date(2026, 12, 5), "contact:3")
        last = _orders(session, tested)[10]
        assert last.last_test and last.due_date == dt.date(2026, 12, 5)
        orders.record_sample(session, me, last.id, "S-LAST", at=dt.datetime(2026, 12, 5, 1, tzinfo=dt.UTC))
    path = write_results(tmp_path / "lab.csv", [("S-LAST", "阴性", "", "", "2026-12-05 18:00")])
    with acting_as(app, "home_laboratory") as (session, lab):
        results.load_results(session, lab, path, bus=bus)
    with acting_as(app, COORDINATOR) as (session, _me):
        keys = [(tested, "contact:1"), (untested, "contact:2"), (pending, "contact:3")]
        assert orders.release_holds(session, keys, dt.date(2026, 12, 6)) == {(untested, "contact:2")}
        # The pending plan's last test is due 12-15: on that day, without a result, it holds release too.
        assert (pending, "contact:3") in orders.release_holds(session, keys, dt.date(2026, 12, 15))
        assert orders.release_holds(session, [], dt.date(2026, 12, 6)) == set()


def test_orders_of_a_foreign_county_are_not_found(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[FOREIGN_COUNTY][0]
    bus = bus_with_orders()
    with acting_as(app, "away_testing_coordinator") as (session, _me):
        place(session, bus, person, "close_contact", dt.date(2026, 12, 5), SOURCE)
        order_id = _orders(session, person)[1].id
    with acting_as(app, COORDINATOR) as (session, me), pytest.raises(NotFound):
        orders.record_sample(session, me, order_id, "S-9")
