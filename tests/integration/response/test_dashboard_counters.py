"""The dashboard's counters on SQLite and PostgreSQL: kept by the event handlers in the same transaction
as the change, and repaired by the nightly recount."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dashboard_support import counting_bus, place, report_case
from sqlalchemy import select, update

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.db import Database
from fangkong.core.events import PersonReleasedFromManagement
from fangkong.response.models import DailyCount, Gauge
from fangkong.response.rules import metrics as m
from fangkong.response.service import counters
from fangkong.surveillance.events import AlertRaised

COMMUNITY = "/330000/330100/330106/330106001/330106001001/"
COUNTY = "/330000/330100/330106/"


def _daily(db: Database) -> dict[tuple[str, str, dt.date], int]:
    with db.unit_of_work() as session:
        rows = session.execute(select(DailyCount.jpath, DailyCount.metric, DailyCount.day, DailyCount.value))
        return {(p, k, d): v for p, k, d, v in rows}


def _gauges(db: Database) -> dict[tuple[str, str], int]:
    with db.unit_of_work() as session:
        return {(p, k): v for p, k, v in session.execute(select(Gauge.jpath, Gauge.metric, Gauge.value))}


def test_counters_follow_the_events(db: Database, app: Any, world: World) -> None:
    bus = counting_bus()
    today = clock.today()
    yesterday = today - dt.timedelta(days=1)
    vault = app.state.vault
    report_case(db, vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(1, 0)))
    report_case(db, vault, world, bus, 1, reported=dt.datetime.combine(yesterday, dt.time(23, 30)))
    report_case(db, vault, world, bus, 2, reported=dt.datetime.combine(today, dt.time(2, 0)),
                classification="suspected")  # fmt: skip
    daily = _daily(db)
    # Each row holds its subtree: the case's community, and every jurisdiction above it.
    for path in (COUNTY, "/330000/330100/", "/330000/"):
        assert daily[(path, m.CASES_REPORTED, today)] == 1
        assert daily[(path, m.CASES_REPORTED, yesterday)] == 1
    reported = {(p, d): v for (p, k, d), v in daily.items() if k == m.CASES_REPORTED}
    assert all(p.startswith(COUNTY) or COUNTY.startswith(p) for p, _ in reported)

    person = world.people[HOME_COUNTY][3]
    # Plans start the day after their clock date: placed with a past exposure, they cover today.
    jpath = place(db, bus, person, "close_contact", "test:1", today - dt.timedelta(days=3))
    # The same source placing again replaces the plan: the level stays one person.
    place(db, bus, person, "close_contact", "test:1", yesterday)
    gauges = _gauges(db)
    assert gauges[(jpath, m.under_measure("close_contact"))] == 1
    assert gauges[("/330000/", m.under_measure("close_contact"))] == 1
    assert _daily(db)[(jpath, m.PEOPLE_PLACED, today)] == 2  # placements made, each counted

    with db.unit_of_work() as session:
        bus.publish(session, PersonReleasedFromManagement(person_id=person, source="test:1"))
        raised = AlertRaised(alert_id=1, jurisdiction_id=world.jurisdictions[HOME_COUNTY],
                             jpath=COMMUNITY, level="red", title="t", raised_at=clock.utcnow())  # fmt: skip
        bus.publish(session, raised)
    assert _gauges(db)[(jpath, m.under_measure("close_contact"))] == 0
    assert _gauges(db)[(COUNTY, m.under_measure("close_contact"))] == 0
    daily = _daily(db)
    assert daily[(jpath, m.PEOPLE_RELEASED, today)] == 1
    assert daily[(COMMUNITY, m.ALERTS_RAISED, today)] == 1


def test_a_rolled_back_change_leaves_no_count(db: Database, app: Any, world: World) -> None:
    bus = counting_bus()
    person = world.people[HOME_COUNTY][3]
    try:
        with db.unit_of_work() as session:
            from fangkong.core.events import PersonPlacedUnderManagement
            from fangkong.core.models import Person

            found = session.get(Person, person)
            assert found is not None
            bus.publish(session, PersonPlacedUnderManagement(person_id=person, jpath=found.jpath,
                        category="close_contact", clock_date=clock.today(), source="test:2"))  # fmt: skip
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    assert _daily(db) == {} and _gauges(db) == {}


def test_recount_repairs_drift(db: Database, app: Any, world: World) -> None:
    bus = counting_bus()
    today = clock.today()
    report_case(db, app.state.vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(1, 0)))
    person = world.people[HOME_COUNTY][3]
    jpath = place(db, bus, person, "close_contact", "test:1", today - dt.timedelta(days=2))
    before_daily, before_gauges = _daily(db), _gauges(db)
    with db.unit_of_work() as session:
        assert counters.recount(session, today) == []  # nothing drifted
        session.execute(update(DailyCount).where(DailyCount.metric == m.CASES_REPORTED).values(value=7))
        session.execute(update(Gauge).values(value=5))
        counters.add_daily(session, [("/330000/330200/", m.ALERTS_RAISED, today, 3)])
    with db.unit_of_work() as session:
        changes = counters.recount(session, today)
    assert {(c.metric, c.before, c.after) for c in changes} == {
        (m.CASES_REPORTED, 7, 1),
        (m.under_measure("close_contact"), 5, 1),
        (m.ALERTS_RAISED, 3, 0),
    }
    after = _daily(db)
    assert after[("/330000/330200/", m.ALERTS_RAISED, today)] == 0
    assert after[("/330000/", m.ALERTS_RAISED, today)] == 0
    assert {k: v for k, v in after.items() if v} == before_daily
    assert _gauges(db) == before_gauges
    assert before_gauges[(jpath, m.under_measure("close_contact"))] == 1
    with db.unit_of_work() as session:
        assert counters.recount(session, today) == []


def test_recount_of_a_county_carries_its_correction_up(db: Database, app: Any, world: World) -> None:
    bus = counting_bus()
    today = clock.today()
    report_case(db, app.state.vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(1, 0)))
    with db.unit_of_work() as session:
        # Drift in the community's row and, as it would be, in every row above it.
        counters.add_daily(session, [(COMMUNITY, m.CASES_REPORTED, today, 2)])
    with db.unit_of_work() as session:
        changes = counters.recount(session, today, COUNTY)
    assert {(c.jpath, c.before, c.after) for c in changes} == {
        (COMMUNITY, 3, 1),
        ("/330000/330100/330106/330106001/", 3, 1),
        (COUNTY, 3, 1),
    }
    daily = _daily(db)
    assert daily[("/330000/", m.CASES_REPORTED, today)] == 1  # corrected by the county's difference
    assert daily[("/330000/330100/", m.CASES_REPORTED, today)] == 1
