"""No training, no post: a round's sampling sites open only with certified samplers available to the
county (its own, and support checked in there), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import Conflict
from fangkong.resources.service import deployments, teams
from resources_support import acting, add_certified


def test_a_sampling_site_cannot_open_without_certified_samplers(app, world: World) -> None:
    from fangkong.testing.service import rounds
    from testing_support import home_round

    db = app.state.db
    _campaign, round_id = home_round(db, world)
    with acting(db, "home_administrator") as (session, me):
        # The county keeps a roster, but its only sampler's certificate has expired.
        add_certified(session, me, "过期采样员", "sampling", passed_on=clock.today() - dt.timedelta(days=400))
    with acting(db, "home_testing_coordinator") as (session, me), pytest.raises(Conflict) as refused:
        rounds.set_up_sites(session, me, round_id)
    assert "certified samplers" in refused.value.message
    with acting(db, "home_testing_coordinator") as (session, me):
        assert rounds.site_plan(session, me, round_id)  # the plan is there; the sites are not open
    # Support from 海曙区, checked in at 西湖区, brings certified samplers.
    with acting(db, "away_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="sampling", name="海曙采样队"
        )
        for i in range(2):
            teams.add_member(
                session, me, team.id, add_certified(session, me, f"支援{i}", "sampling", code=FOREIGN_COUNTY)
            )
        sent = deployments.send(
            session, me, team.id, to_jurisdiction_code=HOME_COUNTY, outbreak="西湖", commander="西湖区"
        )
        deployments.check_in(session, me, sent.id)
    with acting(db, "home_testing_coordinator") as (session, me):
        opened = rounds.set_up_sites(session, me, round_id)
        assert opened and all(site.samplers >= 1 for site in opened)
