"""The dashboard's read model and the accountability tables on SQLite and PostgreSQL, against a hand-made
example: two cases in the home county, one in the foreign one, a person under measure, tasks with known
clocks (on site after 1 h and 3 h, core facts after 5 h, one left open past its deadline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dashboard_support import counting_bus, place, place_of, report_case, task

from areas_support import acting_as
from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.db import Database
from fangkong.core.errors import NotFound
from fangkong.response.models import TaskState
from fangkong.response.service.accountability import accountability, week_of
from fangkong.response.service.dashboard import dashboard

COUNTY_PATH = "/330000/330100/330106/"


@pytest.fixture
def example(db: Database, app: Any, world: World) -> dt.date:
    bus = counting_bus()
    today = clock.today()
    vault = app.state.vault
    report_case(db, vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(1, 0)),
                onset=today - dt.timedelta(days=3))  # fmt: skip
    two_days_ago = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(9))
    report_case(db, vault, world, bus, 1, reported=two_days_ago, onset=today - dt.timedelta(days=4))
    report_case(db, vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(2, 0)),
                county=FOREIGN_COUNTY, username="away_investigator")  # fmt: skip
    place(db, bus, world.people[HOME_COUNTY][3], "close_contact", "test:1", today - dt.timedelta(days=2))
    now = clock.utcnow()
    with db.unit_of_work() as session:
        community = place_of(session, "330106001001")
        foreign = place_of(session, FOREIGN_COUNTY)
        task(
            session,
            "team_on_site",
            1,
            community,
            now - dt.timedelta(hours=30),
            120,
            closed_after=1,
            team="一队",
        )
        task(
            session,
            "team_on_site",
            2,
            community,
            now - dt.timedelta(hours=20),
            120,
            closed_after=3,
            team="二队",
        )
        task(
            session,
            "core_facts",
            1,
            community,
            now - dt.timedelta(hours=30),
            240,
            closed_after=5,
            team="一队",
        )
        # Open past its 2 h deadline (opened 6 h ago): overdue, missed, waiting late.
        task(session, "team_on_site", 3, community, now - dt.timedelta(hours=6), 120)
        # Open, not yet due: neither overdue nor judged.
        task(session, "core_facts", 3, community, now - dt.timedelta(hours=1), 240)
        task(session, "team_on_site", 9, foreign, now - dt.timedelta(hours=10), 120, closed_after=0.5)
        task(session, "core_facts", 9, foreign, now - dt.timedelta(hours=10), 240, state=TaskState.cancelled)
    return today


def test_the_dashboard_matches_the_example(db: Database, example: dt.date) -> None:
    today = example
    with acting_as(db, "home_command_centre") as (session, me):
        view = dashboard(session, me)
    assert view.place.code == HOME_COUNTY and view.on == today
    assert len(view.days) == 28 and view.days[-1] == today
    assert view.by_report[-1] == 1 and view.by_report[-3] == 1 and sum(view.by_report) == 2
    assert view.by_onset[-4] == 1 and view.by_onset[-5] == 1 and sum(view.by_onset) == 2
    assert view.cases_today == 1 and view.cases_window == 2
    assert view.under_measure == {"close_contact": 1}
    assert view.overdue_count == 1 and view.overdue[0].subject_ref == "C-3"
    assert view.overdue[0].hours_late == pytest.approx(4.0, abs=0.1)
    on_site = view.timeliness["on_site"]
    assert (on_site.n, on_site.median, on_site.target_hours) == (2, 2.0, 2.0)
    assert (on_site.waiting, on_site.waiting_late) == (1, 1)
    assert on_site.within_target == pytest.approx(1 / 3)  # 1 h met; 3 h and the open one missed
    core = view.timeliness["core_facts"]
    assert (core.n, core.median, core.target_hours, core.waiting, core.waiting_late) == (1, 5.0, 4.0, 1, 0)
    assert core.within_target == 0.0
    assert view.timeliness["contacts_placed"].n == 0
    assert view.found_under_management == 0.0
    # Drill-down: the county's townships, the cases and the overdue task in the one that has them.
    [township] = view.children
    assert (township.place.code, township.cases_window, township.cases_today) == ("330106001", 2, 1)
    assert (township.under_measure, township.overdue_tasks) == (1, 1)


def test_the_province_sums_its_children(db: Database, example: dt.date) -> None:
    with acting_as(db, "province_admin") as (session, me):
        view = dashboard(session, me, code="330000")
    assert view.cases_window == 3 and view.parent is None
    assert {c.place.code: c.cases_window for c in view.children} == {"330100": 2, "330200": 1}
    on_site = view.timeliness["on_site"]
    assert on_site.n == 3 and on_site.median == 1.0


def test_outside_the_scope_is_not_found(db: Database, example: dt.date) -> None:
    with acting_as(db, "home_command_centre") as (session, me), pytest.raises(NotFound):
        dashboard(session, me, code=FOREIGN_COUNTY)


def test_accountability_per_area_team_and_step(db: Database, example: dt.date) -> None:
    with acting_as(db, "province_admin") as (session, me):
        view = accountability(session, me, code="330000", weeks=4)
    assert len(view.weeks) == 4 and view.weeks[-1] == week_of(example)
    # Judged: on site 1 h (met), 3 h (missed), open past due (missed); core facts 5 h (missed);
    # foreign on site 0.5 h (met). Not judged: the open task not yet due, the cancelled one.
    assert (view.total.met, view.total.missed) == (2, 3)
    areas = {r.key: (r.total.met, r.total.missed) for r in view.by_jurisdiction}
    assert areas == {"/330000/330100/": (1, 3), "/330000/330200/": (1, 0)}
    teams = {r.key: (r.total.met, r.total.missed) for r in view.by_team}
    assert teams == {"": (1, 1), "一队": (1, 1), "二队": (0, 1)}
    [first, second] = view.slowest
    assert (first.code, first.median_late_hours, first.judged, first.missed) == ("core_facts", 1.0, 1, 1)
    assert second.code == "team_on_site" and second.judged == 4 and second.missed == 2
    assert second.median_late_hours == pytest.approx(0.0, abs=0.01)  # -1.5, -1, 1, 4 → median 0
