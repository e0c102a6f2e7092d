"""A deployment (支援): check-in moves people from the sending jurisdiction's count to the receiving
one's, and check-out moves them back (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.resources.models import DeploymentState
from fangkong.resources.service import deployments, roster, staff, teams
from resources_support import acting, add_certified


def _counts(session, code_path: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    c = staff.duty_counts(session, code_path)
    return c.on_duty, c.away, c.support


def test_check_in_and_out_update_both_jurisdictions_counts(app, world: World) -> None:
    db = app.state.db
    with acting(db, "away_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="sampling", name="海曙采样队"
        )
        ids = [add_certified(session, me, f"采样{i}", "sampling", code=FOREIGN_COUNTY) for i in range(4)]
        for i in ids:
            teams.add_member(session, me, team.id, i, leader=i == ids[0])
            # On duty today by the roster: the counts follow who works today.
            roster.set_shift(session, me, i, clock.today(), "on_duty")
        sent = deployments.send(
            session,
            me,
            team.id,
            to_jurisdiction_code=HOME_COUNTY,
            outbreak="西湖区12月疫情",
            commander="西湖区现场指挥部",
            members=[
                deployments.MemberPlan(i, batch=1 if n < 2 else 2, working_group="A组")
                for n, i in enumerate(ids)
            ],
        )
        away_path, deployment_id = me.jpath, sent.id
    with acting(db, "home_administrator") as (session, me):
        home_path = me.jpath
        assert _counts(session, home_path) == (0, 0, 0)
        assert _counts(session, away_path) == (4, 0, 0)
        # The receiving side checks in the first batch on arrival.
        assert deployments.check_in(session, me, deployment_id, batch=1) == 2
        assert _counts(session, home_path) == (2, 0, 2)
        assert _counts(session, away_path) == (2, 2, 0)
        # Staff away are not eligible for posts at home.
        assert len(staff.eligible(session, away_path, staff.Skill.sampling)) == 2
        assert deployments.check_in(session, me, deployment_id) == 2
        assert _counts(session, home_path) == (4, 0, 4)
        assert deployments.check_out(session, me, deployment_id, [ids[0]]) == 1
        assert _counts(session, home_path) == (3, 0, 3)
        assert _counts(session, away_path) == (1, 3, 0)
        assert deployments.check_out(session, me, deployment_id) == 3
        row = deployments.deployment_row(session, me, deployment_id)
        assert row.deployment.state is DeploymentState.closed
        assert _counts(session, home_path) == (0, 0, 0)
        assert _counts(session, away_path) == (4, 0, 0)
        with pytest.raises(Conflict):
            deployments.check_in(session, me, deployment_id)
        # The province sees both sides; the counts of the whole province do not double the people.
    with acting(db, "province_admin") as (session, me):
        assert _counts(session, me.jpath) == (4, 0, 0)


def test_a_deployment_is_refused_inside_the_team_own_area_and_hidden_from_third_parties(
    app, world: World
) -> None:
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="testing", name="西湖检测队"
        )
        with pytest.raises(InvalidInput) as caught:
            deployments.send(
                session, me, team.id, to_jurisdiction_code="330106001", outbreak="x", commander="y"
            )
        assert {e.field for e in caught.value.errors} == {"to_jurisdiction_code", "members"}
    with acting(db, "away_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="testing", name="海曙检测队"
        )
        person = add_certified(session, me, "检测员", "laboratory_testing", code=FOREIGN_COUNTY)
        teams.add_member(session, me, team.id, person)
        sent = deployments.send(
            session,
            me,
            team.id,
            to_jurisdiction_code="330102",
            outbreak="上城区疫情",
            commander="上城区指挥部",
        )
        sent_id = sent.id
    # 西湖区 neither sent nor received it: it does not exist for them.
    with acting(db, "home_administrator") as (session, me):
        with pytest.raises(NotFound):
            deployments.check_in(session, me, sent_id)
        assert deployments.list_deployments(session, me) == []
