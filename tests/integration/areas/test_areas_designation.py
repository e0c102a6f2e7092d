"""Designation on SQLite and PostgreSQL: proposals from cases' homes and places by the protocol in force,
approval, the county's low rest, the lifting clock with new cases and testing's day-7 round, the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from areas_support import (
    HOME_COMMUNITY,
    Recorder,
    acting_as,
    add_visits,
    register_case,
    screening_round,
    switch_protocol,
)
from conftest import HOME_COUNTY, World
from fangkong.areas.events import RiskAreaDesignated, RiskAreaLifted
from fangkong.areas.models import AreaState, RiskLevel, UnitKind
from fangkong.areas.service import designation
from fangkong.core import clock
from fangkong.core.db import Database
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from fangkong.core.i18n import render_text

SCREENING = "needs a negative screening round of everyone on day 7"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _local(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def _propose(db: Database, username: str = "home_investigator") -> list[int]:
    with acting_as(db, username) as (session, me):
        return [a.id for a in designation.propose_from_cases(session, me)]


def _approve(db: Database, recorder: Recorder, area_id: int, **kw: Any) -> None:
    with acting_as(db, "home_command_centre") as (session, me):
        designation.approve(session, recorder.bus, me, area_id, **kw)


def _home_area(db: Database, app: Any, world: World, recorder: Recorder) -> int:
    """A case at home (resident 0 of 保俶社区) proposed and designated today: the area's id."""
    register_case(db, app.state.vault, recorder.bus, world, 0, found_on=clock.today())
    (area_id,) = _propose(db)
    _approve(db, recorder, area_id)
    return area_id


def test_a_case_proposes_its_home_high_its_frequent_place_high_and_a_stay_medium(
    db: Database, app: Any, world: World, recorder: Recorder
) -> None:
    today = clock.today()
    case = register_case(db, app.state.vault, recorder.bus, world, 0, found_on=today)
    add_visits(
        db,
        case,
        [
            ("翠苑大厦", _local(today - dt.timedelta(days=2))),
            ("翠苑大厦", _local(today - dt.timedelta(days=1))),
            ("文三路菜场", _local(today - dt.timedelta(days=1), 17)),
        ],
    )
    created = _propose(db)
    assert len(created) == 3
    with acting_as(db, "home_command_centre") as (session, me):
        areas = {a.name: a for a in designation.list_areas(session, me).items}
        home = next(a for a in areas.values() if a.unit_kind is UnitKind.compound)
        assert home.name.startswith("保俶社区")
        assert home.level is RiskLevel.high and home.state is AreaState.proposed
        assert home.protocol_id == "cn-9" and home.last_case_on == today
        assert designation.households_of(session, [home.id])[home.id]  # the case's household
        assert (areas["翠苑大厦"].level, areas["翠苑大厦"].unit_kind) == (RiskLevel.high, UnitKind.building)
        assert areas["文三路菜场"].level is RiskLevel.medium
        ref = designation.cases_of(session, me, home.id)[0].case_id
        assert render_text(home.reason, None).startswith("home of ")
        assert ref == case
        assert [c.kind for c in designation.timeline(session, me, home.id)] == ["proposed"]
    # Again: nothing new. Another case in the same household joins the same area.
    assert _propose(db) == []
    register_case(db, app.state.vault, recorder.bus, world, 2, found_on=today)
    assert _propose(db) == []
    with acting_as(db, "home_command_centre") as (session, me):
        assert len(designation.cases_of(session, me, home.id)) == 2
        assert designation.list_areas(session, me).total == 3


def test_the_command_centre_approves_and_the_rest_of_the_county_is_low(
    db: Database, app: Any, world: World, recorder: Recorder
) -> None:
    register_case(db, app.state.vault, recorder.bus, world, 0, found_on=clock.today())
    (area_id,) = _propose(db)
    with acting_as(db, "home_investigator") as (session, me), pytest.raises(Forbidden):
        designation.approve(session, recorder.bus, me, area_id)
    with acting_as(db, "away_command_centre") as (session, me), pytest.raises(NotFound):
        designation.approve(session, recorder.bus, me, area_id)
    with acting_as(db, "home_command_centre") as (session, me):
        assert designation.county_levels(session, me) == []
    _approve(db, recorder, area_id, name="保俶社区幸福小区")
    (event,) = recorder.of(RiskAreaDesignated)
    assert isinstance(event, RiskAreaDesignated) and (event.area_id, event.level) == (area_id, "high")
    with acting_as(db, "home_command_centre") as (session, me):
        area = designation.get_area(session, me, area_id)
        assert area.state is AreaState.in_force and area.approved_by == "home_command_centre"
        assert area.level_since == clock.today() and area.name == "保俶社区幸福小区"
        (county,) = designation.county_levels(session, me)
        assert (county.code, county.high, county.medium, county.rest_is_low) == (HOME_COUNTY, 1, 0, True)
        assert [a.id for a in designation.areas_in_force(session, "/330000/")] == [area_id]
        with pytest.raises(Conflict):
            designation.approve(session, recorder.bus, me, area_id)
    with acting_as(db, "home_community_worker") as (session, me):
        assert [c.code for c in designation.county_levels(session, me)] == [HOME_COUNTY]
    with acting_as(db, "away_command_centre") as (session, me):
        assert designation.county_levels(session, me) == []


def test_a_proposal_can_be_rejected(db: Database, app: Any, world: World, recorder: Recorder) -> None:
    register_case(db, app.state.vault, recorder.bus, world, 0, found_on=clock.today())
    (area_id,) = _propose(db)
    with acting_as(db, "home_command_centre") as (session, me):
        designation.reject(session, me, area_id, reason="同一小区已封控")
        assert designation.get_area(session, me, area_id).state is AreaState.rejected
    assert _propose(db) == []  # its case proposes it no more


def test_cn9_10_allows_only_building_unit_floor_or_household(
    db: Database, app: Any, world: World, recorder: Recorder
) -> None:
    switch_protocol(db, world, HOME_COUNTY, "cn-9-10")
    today = clock.today()
    case = register_case(db, app.state.vault, recorder.bus, world, 0, found_on=today)
    add_visits(db, case, [("文三路菜场", _local(today - dt.timedelta(days=1)))])  # a stay: no medium tier
    (area_id,) = _propose(db)
    with acting_as(db, "home_command_centre") as (session, me):
        area = designation.get_area(session, me, area_id)
        assert (area.unit_kind, area.level, area.protocol_id) == (
            UnitKind.building,
            RiskLevel.high,
            "cn-9-10",
        )
        with pytest.raises(InvalidInput) as refused:
            designation.approve(session, recorder.bus, me, area_id, unit_kind=UnitKind.compound)
        assert refused.value.errors[0].field == "unit_kind"
        with pytest.raises(InvalidInput):
            designation.approve(session, recorder.bus, me, area_id, level=RiskLevel.medium)
    _approve(db, recorder, area_id, unit_kind=UnitKind.household)
    with acting_as(db, "home_command_centre") as (session, me):
        (due,) = designation.lifting_calendar(session, me)
        assert (due.on - today).days == 5 and due.to_level is RiskLevel.low


def test_cn10_designates_none_and_says_so(db: Database, app: Any, world: World, recorder: Recorder) -> None:
    switch_protocol(db, world, HOME_COUNTY, "cn-10")
    register_case(db, app.state.vault, recorder.bus, world, 0, found_on=clock.today())
    assert _propose(db) == []
    with acting_as(db, "home_investigator") as (session, me):
        notice = designation.proposal_notice(session, me)
        assert notice is not None
        assert notice.render(None) == "the protocol in force (cn-10) designates no risk areas"
        assert designation.list_areas(session, me).total == 0


def test_add_households_lists_registry_households_of_the_areas_community(
    db: Database, app: Any, world: World, recorder: Recorder
) -> None:
    from sqlalchemy import select

    from fangkong.core.models import Person

    area_id = _home_area(db, app, world, recorder)
    with acting_as(db, "home_investigator") as (session, me):
        ids = {
            p.id: p.household_id
            for p in session.scalars(select(Person).where(Person.id.in_(world.people[HOME_COUNTY])))
        }
        home, other = world.people[HOME_COUNTY][1], world.people[HOME_COUNTY][3]
        household = ids[home]
        assert household is not None
        assert designation.add_households(session, me, area_id, [household]) == 1
        assert designation.add_households(session, me, area_id, [household]) == 0
        with pytest.raises(InvalidInput):  # a household of 宝石社区, not of this area's community
            designation.add_households(session, me, area_id, [ids[other] or -1])
        assert designation.timeline(session, me, area_id)[-1].kind == "households"


def _due(db: Database, on: dt.date) -> list[designation.DueChange]:
    with acting_as(db, "home_command_centre") as (session, me):
        return designation.due_changes(session, me, on)


def _apply(db: Database, recorder: Recorder, area_id: int, level: RiskLevel) -> None:
    with acting_as(db, "home_command_centre") as (session, me):
        designation.apply_change(session, recorder.bus, me, area_id, level)


def test_cn9_lifting_walks_the_clock_day_by_day_with_the_day_7_round(
    db: Database, app: Any, world: World, recorder: Recorder, frozen_clock: clock.FrozenClock
) -> None:
    start = clock.today()
    area_id = _home_area(db, app, world, recorder)
    for n in range(7):
        assert _due(db, start + dt.timedelta(days=n)) == [], n
    frozen_clock.advance(dt.timedelta(days=7))
    (due,) = _due(db, clock.today())
    assert (due.area_id, due.to_level, due.due_on, due.ready) == (
        area_id,
        RiskLevel.medium,
        clock.today(),
        False,
    )
    assert [render_text(b, None) for b in due.blockers] == [SCREENING]
    with pytest.raises(Conflict) as blocked:
        _apply(db, recorder, area_id, RiskLevel.medium)
    assert blocked.value.message == SCREENING
    # A round that left a resident unsampled is not a round of everyone; a complete negative one is.
    people = world.people[HOME_COUNTY][:2]
    screening_round(db, world, clock.today(), sampled=people, barcode="AREA-PART")
    assert not _due(db, clock.today())[0].ready
    screening_round(db, world, clock.today(), barcode="AREA-ALL")
    assert _due(db, clock.today())[0].ready
    with pytest.raises(InvalidInput):
        _apply(db, recorder, area_id, RiskLevel.low)
    _apply(db, recorder, area_id, RiskLevel.medium)
    # Downgraded high: 3 more days to low, no round needed.
    for n in range(3):
        frozen_clock.advance(dt.timedelta(days=1))
        due_now = _due(db, clock.today())
        assert (len(due_now) == 1) == (n == 2), n
    assert _due(db, clock.today())[0].ready
    _apply(db, recorder, area_id, RiskLevel.low)
    assert [(e.from_level, e.to_level) for e in recorder.of(RiskAreaLifted)] == [  # type: ignore[attr-defined]
        ("high", "medium"),
        ("medium", "low"),
    ]
    with acting_as(db, "home_command_centre") as (session, me):
        area = designation.get_area(session, me, area_id)
        assert area.state is AreaState.lifted and area.lifted_at is not None
        assert [c.kind for c in designation.timeline(session, me, area_id)] == [
            "proposed",
            "designated",
            "downgraded",
            "lifted",
        ]
        assert designation.county_levels(session, me) == []
        assert designation.areas_in_force(session, "/") == []


def test_a_new_case_on_day_6_restarts_the_clock(
    db: Database, app: Any, world: World, recorder: Recorder, frozen_clock: clock.FrozenClock
) -> None:
    start = clock.today()
    area_id = _home_area(db, app, world, recorder)
    with acting_as(db, "home_command_centre") as (session, me):
        (first,) = designation.lifting_calendar(session, me)[:1]
        assert first.on == start + dt.timedelta(days=7) and first.needs_screening
    frozen_clock.advance(dt.timedelta(days=6))
    # Resident 2 shares the household of resident 0: the handler restarts the area's clock.
    register_case(db, app.state.vault, recorder.bus, world, 2, found_on=clock.today())
    with acting_as(db, "home_command_centre") as (session, me):
        area = designation.get_area(session, me, area_id)
        assert area.last_case_on == clock.today()
        assert designation.timeline(session, me, area_id)[-1].kind == "new_case"
        calendar = designation.lifting_calendar(session, me)
        assert [(e.on - start).days for e in calendar] == [13, 16]
    frozen_clock.advance(dt.timedelta(days=1))
    (due,) = _due(db, clock.today())
    assert due.blocker_kinds == ("new_case",) and due.due_on == start + dt.timedelta(days=13)
    with pytest.raises(Conflict):
        _apply(db, recorder, area_id, RiskLevel.medium)
    frozen_clock.advance(dt.timedelta(days=6))
    screening_round(db, world, clock.today())
    (due,) = _due(db, clock.today())
    assert due.ready and due.to_level is RiskLevel.medium
    _apply(db, recorder, area_id, RiskLevel.medium)


def test_cn9_20_lifts_a_high_area_after_5_days(
    db: Database, app: Any, world: World, recorder: Recorder, frozen_clock: clock.FrozenClock
) -> None:
    switch_protocol(db, world, HOME_COUNTY, "cn-9-20")
    start = clock.today()
    area_id = _home_area(db, app, world, recorder)
    with acting_as(db, "home_command_centre") as (session, me):
        assert designation.get_area(session, me, area_id).unit_kind is UnitKind.unit
    assert _due(db, start + dt.timedelta(days=4)) == []
    frozen_clock.advance(dt.timedelta(days=5))
    (due,) = _due(db, clock.today())
    assert due.ready and due.to_level is RiskLevel.low
    _apply(db, recorder, area_id, RiskLevel.low)
    with acting_as(db, "home_command_centre") as (session, me):
        assert designation.get_area(session, me, area_id).state is AreaState.lifted
        with pytest.raises(Conflict):
            designation.apply_change(session, recorder.bus, me, area_id, RiskLevel.low)


def test_list_areas_pages_and_filters(db: Database, app: Any, world: World, recorder: Recorder) -> None:
    today = clock.today()
    case = register_case(db, app.state.vault, recorder.bus, world, 0, found_on=today)
    add_visits(db, case, [(f"商铺{i}", _local(today - dt.timedelta(days=1), 8 + i)) for i in range(4)])
    assert len(_propose(db)) == 5
    with acting_as(db, "home_command_centre") as (session, me):
        page = designation.list_areas(session, me, designation.AreaFilter(level=RiskLevel.medium), size=3)
        assert (page.total, len(page.items), page.pages) == (4, 3, 2)
        named = designation.list_areas(session, me, designation.AreaFilter(q="商铺2"))
        assert [a.name for a in named.items] == ["商铺2"]
        assert (
            designation.list_areas(session, me, designation.AreaFilter(state=AreaState.in_force)).total == 0
        )
    with acting_as(db, "away_command_centre") as (session, me):
        assert designation.list_areas(session, me).total == 0
    assert HOME_COMMUNITY
