"""Who may be posted: an expired certification takes a person off the eligible list, and a team's
readiness counts only its certified, available members (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import InvalidInput
from fangkong.resources.models import Skill
from fangkong.resources.rules import ReadinessState
from fangkong.resources.service import staff, teams
from resources_support import acting, add_certified


def _eligible_names(session, me) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(r.staff.name for r in staff.eligible(session, me.jpath, Skill.sampling))


def test_an_expired_certification_takes_a_person_off_the_eligible_list(
    app, world: World, frozen_clock: clock.FrozenClock
) -> None:
    db = app.state.db
    today = clock.today()
    with acting(db, "home_administrator") as (session, me):
        # 王采样's certificate runs out tomorrow; 李采样's in a year.
        add_certified(
            session, me, "王采样", "sampling", passed_on=today - dt.timedelta(days=363), valid_days=365
        )
        add_certified(session, me, "李采样", "sampling", passed_on=today, valid_days=365)
        assert _eligible_names(session, me) == ["李采样", "王采样"]
        due = staff.renewals_due(session, me)
        assert [(r.staff.name, r.expired) for r in due] == [("王采样", False)]

    frozen_clock.advance(dt.timedelta(days=2))
    with acting(db, "home_administrator") as (session, me):
        assert _eligible_names(session, me) == ["李采样"]
        due = staff.renewals_due(session, me)
        assert [(r.staff.name, r.expired) for r in due] == [("王采样", True)]


def test_unavailable_staff_are_not_eligible_and_readiness_counts_only_the_ready(app, world: World) -> None:
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="investigation", name="西湖流调一队"
        )
        ids = [add_certified(session, me, f"流调{i}", "field_investigation") for i in range(3)]
        for i in ids:
            teams.add_member(session, me, team.id, i)
        assert teams.team_row(session, me, team.id).readiness.state is ReadinessState.ready
        staff.set_availability(session, me, ids[0], available=False)
        row = teams.team_row(session, me, team.id)
        assert (row.readiness.ready, row.readiness.gap) == (2, 1)
        assert row.readiness.state is ReadinessState.partly_ready
        assert "流调0" not in [
            r.staff.name for r in staff.eligible(session, me.jpath, Skill.field_investigation)
        ]


def test_bad_staff_input_names_each_field_and_writes_nothing(app, world: World) -> None:
    db = app.state.db
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        staff.add_staff(session, me, jurisdiction_code="330203", name="", unit="疾控", skills=["juggling"])
    assert {e.field for e in caught.value.errors} == {"name", "skills", "jurisdiction_code"}
    with acting(db, "home_administrator") as (session, me):
        assert staff.list_staff(session, me) == []
