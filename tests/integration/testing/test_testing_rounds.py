"""Campaigns and rounds: expected population from the registry, sites by the rule, the stop rule run by the
system on the rounds' outcomes, and scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from conftest import World
from fangkong.core import clock
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.testing.models import (
    CampaignRound,
    RoundExpected,
    RoundState,
    SamplingSite,
    TestResult,
    Tube,
    TubeKind,
)
from fangkong.testing.rules.rounds import FrequencyReason, StopPhase
from fangkong.testing.service import rounds
from testing_support import HOME_COMMUNITIES, acting_as, home_round


def test_a_round_expects_the_registry_population_per_community(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with acting_as(db, "home_testing_coordinator") as (session, me):
        campaign = rounds.create_campaign(
            session, me, name="全员核酸", areas=[world.jurisdictions[c] for c in HOME_COMMUNITIES]
        )
        assert campaign.jpath == "/330000/330100/330106/330106001/"  # the street holding both communities
        assert (campaign.pool_size, campaign.deadline_hours) == (10, 24)
        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            opened = rounds.open_round(session, me, campaign.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        assert opened.number == 1
        assert opened.deadline_at - opened.starts_at == dt.timedelta(hours=24)
        assert opened.day == clock.today()
        expected = {
            row.jurisdiction_id: row.expected
            for row in session.scalars(select(RoundExpected).where(RoundExpected.round_id == opened.id))
        }
    assert expected == {world.jurisdictions[c]: 3 for c in HOME_COMMUNITIES}
    # The registry is counted in one grouped query.
    people_reads = [s for s in statements if "FROM people" in s]
    assert len(people_reads) == 1 and "GROUP BY" in people_reads[0]


def test_a_township_area_counts_its_communities(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        campaign = rounds.create_campaign(
            session, me, name="北山街道", areas=[world.jurisdictions["330106001"]]
        )
        opened = rounds.open_round(session, me, campaign.id)
        plan = rounds.site_plan(session, me, opened.id)
    assert [(c.name, c.sizing.population) for c in plan] == [("保俶社区", 3), ("宝石社区", 3)]


def test_sites_are_sized_by_the_rule_and_set_up_once(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        plan = rounds.site_plan(session, me, round_id)
        assert [(c.sizing.sites, c.sizing.samplers) for c in plan] == [(1, 1), (1, 1)]
        first = rounds.set_up_sites(session, me, round_id)
        again = rounds.set_up_sites(session, me, round_id)
        assert [s.id for s in first] == [s.id for s in again]
        assert [s.name for s in first] == ["保俶社区 1", "宝石社区 1"]
        assert len(session.scalars(select(SamplingSite)).all()) == 2


def test_one_open_round_at_a_time(app, world: World) -> None:  # type: ignore[no-untyped-def]
    campaign_id, round_id = home_round(app.state.db, world)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        with pytest.raises(Conflict, match="round 1 is still open"):
            rounds.open_round(session, me, campaign_id)
        with pytest.raises(Conflict, match="still open"):
            rounds.stop_campaign(session, me, campaign_id)
        rounds.close_round(session, me, round_id, community_positives=0)
        with pytest.raises(Conflict, match="already closed"):
            rounds.close_round(session, me, round_id)
        assert rounds.open_round(session, me, campaign_id).number == 2


def test_the_stop_rule_run_by_the_system(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    campaign_id, round_id = home_round(db, world)

    def close_and_reopen(positives: int, days: int = 1) -> rounds.CampaignAdvice:
        nonlocal round_id
        with acting_as(db, "home_testing_coordinator") as (session, me):
            rounds.close_round(session, me, round_id, community_positives=positives)
            advice = rounds.advice(session, me, campaign_id)
        if not advice.stop.stop:
            frozen_clock.advance(days=days)
            with acting_as(db, "home_testing_coordinator") as (session, me):
                round_id = rounds.open_round(session, me, campaign_id).id
        return advice

    start = clock.today()
    advice = close_and_reopen(2)  # day 0: two community infections
    assert advice.stop.phase is StopPhase.daily and advice.next_round_on == start + dt.timedelta(days=1)
    assert advice.frequency.reason is FrequencyReason.cases_in_recent_rounds
    close_and_reopen(0)  # day 1
    close_and_reopen(1)  # day 2: a positive round resets the count
    close_and_reopen(0)  # day 3
    advice = close_and_reopen(0)  # day 4
    assert (advice.stop.phase, advice.stop.clean_streak) == (StopPhase.daily, 2)
    advice = close_and_reopen(0, days=3)  # day 5: the third clean round; wait three days
    assert advice.stop.phase is StopPhase.waiting
    assert advice.next_round_on == start + dt.timedelta(days=8)
    advice = close_and_reopen(0)  # day 8: the round after the wait is clean
    assert advice.stop.stop and advice.next_round_on is None and advice.rounds_closed == 7
    with acting_as(db, "home_testing_coordinator") as (session, me):
        stopped = rounds.stop_campaign(session, me, campaign_id, "three clean rounds and one more")
        assert stopped.stopped_at is not None
        with pytest.raises(Conflict, match="stopped"):
            rounds.open_round(session, me, campaign_id)


def test_closing_counts_the_infections_from_the_results(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _, round_id = home_round(app.state.db, world)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        path = session.get(CampaignRound, round_id).jpath  # type: ignore[union-attr]
        for barcode, kind, size, result in (
            ("P1", TubeKind.pooled, 10, TestResult.positive),
            ("P2", TubeKind.pooled, 10, TestResult.negative),
            ("S1", TubeKind.single, 1, TestResult.positive),
        ):
            session.add(
                Tube(barcode=barcode, round_id=round_id, jpath=path, kind=kind, pool_size=size, result=result)
            )
        session.flush()
        closed = rounds.close_round(session, me, round_id)
        assert (closed.state, closed.community_positives) == (RoundState.closed, 2)


def test_campaigns_refuse_bad_input_and_stay_in_scope(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        with pytest.raises(InvalidInput) as refused:
            rounds.create_campaign(
                session,
                me,
                name=" ",
                areas=[world.jurisdictions["330203001001"]],  # another county's community
                pool_size=8,
            )
        assert {e.field for e in refused.value.errors} == {"name", "areas", "pool_size"}
        with pytest.raises(InvalidInput, match="sealed areas must be among the areas"):
            rounds.create_campaign(
                session,
                me,
                name="x",
                areas=[world.jurisdictions[HOME_COMMUNITIES[0]]],
                sealed=[world.jurisdictions[HOME_COMMUNITIES[1]]],
            )
    campaign_id, round_id = home_round(app.state.db, world)
    with acting_as(app.state.db, "away_testing_coordinator") as (session, me):
        with pytest.raises(NotFound):
            rounds.get_round(session, me, round_id)
        with pytest.raises(NotFound):
            rounds.advice(session, me, campaign_id)
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        area = rounds.set_sealed(session, me, campaign_id, world.jurisdictions[HOME_COMMUNITIES[0]], True)
        assert area.sealed
