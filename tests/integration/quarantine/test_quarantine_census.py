"""The census on a hand-made example: occupancy by site, tier and day, the forecast, days until full, chart.

The clock stands at 2026-12-06 20:19 UTC, 04:19 on 7 December in Beijing: "today" is 7 December. A
close contact last exposed on day D is in a site from D+1 to D+7 and leaves on D+8 (cn-9).

一级点 (tier 1, open): rooms 101-105, 105 out of service, so 4 in service.
  101: p0, exposed 30 Nov, in since 1 Dec, leaves 8 Dec.
  102: p1, exposed 3 Dec, in since 4 Dec, leaves 11 Dec.
  103: p2, no plan any more (placed today): leaves at today's release check.
  104: p6 (another county's resident), in from 28 Nov to 2 Dec, free now.
二级点 (tier 2, reserve): 6 rooms.
To place: p3 exposed 6 Dec (due today, waiting), p4 and p5 exposed 7 Dec (due tomorrow).

Forecast (rooms at the end of each day, 4 open): 7 Dec 3 + 1 - 1 = 3; 8 Dec 3 + 2 - 1 = 4 (full);
9, 10 Dec 4; 11 Dec 3 (p1 leaves); 12, 13 Dec 3.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.clock import from_local
from fangkong.quarantine.models import (
    QuarantineRoom,
    QuarantineSite,
    RoomState,
    SiteStatus,
    SiteStatusChange,
    Stay,
    StayState,
)
from fangkong.quarantine.service import census, sites
from quarantine_support import acting, new_site, occupy, plan_centralized, rooms_of

MANAGER = "home_quarantine_manager"
COMMAND = "home_command_centre"
TODAY = dt.date(2026, 12, 7)


def _local(day: int, hour: int, month: int = 12) -> dt.datetime:
    return from_local(dt.datetime(2026, month, day, hour))


def _example(app, world: World) -> dict[str, int]:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    p0, p1, p2, p3, p4, p5 = home
    p6 = world.people[FOREIGN_COUNTY][0]
    with acting(app, MANAGER) as (session, principal):
        first = new_site(session, principal, "一级点", tier=1, rooms=5, status=SiteStatus.open)
        second = new_site(session, principal, "二级点", tier=2, rooms=6)
        for site in (first, second):
            site.created_at = _local(20, 9, month=11)
        # 一级点 was approved on 27 November and opened on 29 November at 10:00.
        session.add_all(
            [
                SiteStatusChange(
                    site_id=first.id, jpath=first.jpath, previous=SiteStatus.reserve,
                    status=SiteStatus.preparing, approved_by=COMMAND, at=_local(27, 9, month=11),
                ),
                SiteStatusChange(
                    site_id=first.id, jpath=first.jpath, previous=SiteStatus.preparing,
                    status=SiteStatus.open, approved_by=MANAGER, at=_local(29, 10, month=11),
                ),
            ]
        )  # fmt: skip
        r101, r102, r103, r104, r105 = rooms_of(session, first)
        sites.set_room_service(session, principal, r105.id, False, "维修")
        occupy(
            session,
            r101,
            p0,
            source=plan_centralized(session, p0, dt.date(2026, 11, 30)),
            placed_at=_local(1, 10),
        )
        occupy(
            session,
            r102,
            p1,
            source=plan_centralized(session, p1, dt.date(2026, 12, 3)),
            placed_at=_local(4, 15),
        )
        occupy(session, r103, p2)
        gone = occupy(session, r104, p6, placed_at=_local(28, 12, month=11))
        gone.state = StayState.released
        gone.ended_at = _local(2, 9)
        session.execute(
            update(QuarantineRoom)
            .where(QuarantineRoom.id == r104.id)
            .values(occupants=0, state=RoomState.free)
        )
        plan_centralized(session, p3, dt.date(2026, 12, 6))
        plan_centralized(session, p4, dt.date(2026, 12, 7))
        plan_centralized(session, p5, dt.date(2026, 12, 7))
        return {"first": first.id, "second": second.id, "p1": p1}


def test_census_numbers_on_a_hand_made_example(app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = _example(app, world)
    with acting(app, MANAGER) as (session, principal):
        figures = census.census(session, principal)
    assert figures.today == TODAY
    assert (figures.occupied, figures.capacity_open, figures.capacity_all, figures.waiting) == (3, 4, 10, 1)
    first, second = figures.sites
    assert (first.site_id, first.rooms, first.occupied, first.free, first.out_of_service) == (
        ids["first"],
        4,
        3,
        1,
        1,
    )
    assert (first.beds, first.occupants) == (5, 3)
    assert first.share == pytest.approx(0.75)
    assert (second.status, second.rooms, second.occupied) == (SiteStatus.reserve, 6, 0)
    assert [(t.tier, t.sites, t.open_sites, t.rooms, t.open_rooms, t.occupied) for t in figures.tiers] == [
        (1, 1, 1, 4, 4, 3),
        (2, 1, 0, 6, 0, 0),
    ]
    projection = [(d.day.day, d.arrivals, d.releases, d.occupied) for d in figures.projection]
    assert projection == [
        (7, 1, 1, 3),
        (8, 2, 1, 4),
        (9, 0, 0, 4),
        (10, 0, 0, 4),
        (11, 0, 1, 3),
        (12, 0, 0, 3),
        (13, 0, 0, 3),
    ]
    assert figures.days_until_full == 1
    assert figures.threshold == 0.8
    assert figures.days_until_threshold == 1  # 3.2 rooms: reached with the 4th tomorrow
    assert figures.hours_ahead[:2] == [0.0, pytest.approx(19.68, abs=0.01)]
    history = {d.day.isoformat()[5:]: (d.occupied, d.capacity_open) for d in figures.history}
    assert len(history) == 14
    assert history == {
        "11-23": (0, 0), "11-24": (0, 0), "11-25": (0, 0), "11-26": (0, 0), "11-27": (0, 0),
        "11-28": (1, 0), "11-29": (1, 4), "11-30": (1, 4), "12-01": (2, 4), "12-02": (1, 4),
        "12-03": (1, 4), "12-04": (2, 4), "12-05": (2, 4), "12-06": (2, 4),
    }  # fmt: skip
    assert figures.history[-1].by_tier == {1: 2}


def test_a_replan_moves_the_release_in_the_forecast(app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = _example(app, world)
    with acting(app, MANAGER) as (session, _principal):
        # p1 is found exposed again on 5 December: the plan restarts and p1 leaves on 13 December.
        plan_centralized(session, ids["p1"], dt.date(2026, 12, 5))
    with acting(app, MANAGER) as (session, principal):
        figures = census.census(session, principal)
    assert [d.releases for d in figures.projection] == [1, 1, 0, 0, 0, 0, 1]
    assert [d.occupied for d in figures.projection] == [3, 4, 4, 4, 4, 4, 3]


def test_the_chart_draws_occupancy_capacity_and_the_threshold(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _example(app, world)
    with acting(app, MANAGER) as (session, principal):
        figures = census.census(session, principal)
    option = figures.chart()
    assert len(option["xAxis"]["data"]) == 21
    assert option["xAxis"]["data"][14] == "2026-12-07"
    series = {s["name"]: s for s in option["series"]}
    occupied = series["Rooms occupied"]
    assert occupied["data"][12:16] == [2, 2, 3, None]
    assert occupied["markLine"]["data"][0]["yAxis"] == pytest.approx(3.2)
    assert "80%" in occupied["markLine"]["label"]["formatter"]
    assert series["Forecast"]["data"][14:] == [3, 4, 4, 4, 3, 3, 3]
    assert series["Rooms in open sites"]["data"][:7] == [0, 0, 0, 0, 0, 0, 4]
    assert series["Rooms in all tiers"]["data"][14] == 10
    assert series["Arrivals"]["data"][14:16] == [1, 2]
    assert series["Releases"]["data"][14:16] == [-1, -1]
    chinese = figures.chart("zh")
    names = [s["name"] for s in chinese["series"]]
    assert all(not name.isascii() for name in names), names
    assert not chinese["series"][0]["markLine"]["label"]["formatter"].startswith("Activation")


def test_another_countys_user_sees_none_of_it(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _example(app, world)
    with acting(app, "away_quarantine_manager") as (session, principal):
        figures = census.census(session, principal)
    assert figures.sites == []
    assert (figures.occupied, figures.capacity_open, figures.capacity_all, figures.waiting) == (0, 0, 0, 0)
    assert all(d.occupied == 0 for d in figures.history)
    assert figures.days_until_full is None


def test_a_stay_placed_before_the_site_was_open_is_still_counted_occupied(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """A preparing site that takes people early: its rooms count in the site's census, not in the open
    capacity the forecast uses."""
    with acting(app, MANAGER) as (session, principal):
        site = new_site(session, principal, "准备点", rooms=2, status=SiteStatus.preparing)
        occupy(session, rooms_of(session, site)[0], world.people[HOME_COUNTY][0])
        figures = census.census(session, principal)
        assert (figures.sites[0].occupied, figures.occupied, figures.capacity_open) == (1, 0, 0)
        assert session.get(QuarantineSite, site.id) is not None
        assert session.query(Stay).count() == 1
