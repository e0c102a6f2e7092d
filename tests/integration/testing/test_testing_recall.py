"""Recall of positive pools: exactly the pool's members are flagged, placed under the temporary measure with
a deadline; the time from the pool's result to every member located is measured; a single-tube positive
retest opens a case in tracing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import DomainEvent
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.testing.events import PersonTestedPositive, PoolFoundPositive
from fangkong.testing.models import OrderState, RecallState, TestOrder, TestResult
from fangkong.testing.service import orders, recall, results
from fangkong.tracing.models import Case
from fangkong.tracing.rules import subject_key
from testing_support import acting_as as _acting_as
from testing_support import bus_with_orders, pooled_tube, write_results

SAMPLED = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)
COORDINATOR = "home_testing_coordinator"


def acting_as(app, username: str):  # type: ignore[no-untyped-def]
    return _acting_as(app.state.db, username)


def _positive_pool(app, world: World, tmp_path: Path, seen: list[DomainEvent]):  # type: ignore[no-untyped-def]
    people = world.people[HOME_COUNTY]
    bus = bus_with_orders()
    bus.subscribe(PoolFoundPositive, lambda _s, e: seen.append(e))
    bus.subscribe(PersonTestedPositive, lambda _s, e: seen.append(e))
    with acting_as(app, "home_laboratory") as (session, _me):
        pooled_tube(session, "P-POS", people[:3], scanned_at=SAMPLED)
        pooled_tube(session, "P-NEG", people[3:5], scanned_at=SAMPLED, first_seq=10)
    path = write_results(
        tmp_path / "lab.csv",
        [
            ("P-POS", "阳性", "33.0", "32.1", "2026-12-06 14:00"),
            ("P-NEG", "阴性", "", "", "2026-12-06 14:00"),
        ],
    )
    with acting_as(app, "home_laboratory") as (session, lab):
        report = results.load_results(session, lab, path, bus=bus)
    return bus, report, people


def test_a_positive_pool_recalls_exactly_its_members_under_the_temporary_measure(
    app, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seen: list[DomainEvent] = []
    _bus, report, people = _positive_pool(app, world, tmp_path, seen)
    assert (report.positive_pools, report.recalled, report.positive_people) == (1, 3, 0)
    with acting_as(app, COORDINATOR) as (session, me):
        flagged = recall.recall_list(session, me)
        assert sorted(r.person_id for r in flagged) == sorted(people[:3])
        assert {(r.pool_barcode, r.state) for r in flagged} == {("P-POS", RecallState.flagged)}
        for r in flagged:
            assert r.deadline_at - r.flagged_at == dt.timedelta(hours=results.RECALL_DEADLINE_HOURS)
            plan = session.scalar(
                select(ManagementPlanRecord).where(ManagementPlanRecord.source == f"recall:{r.id}")
            )
            assert plan is not None and (plan.person_id, plan.category) == (
                r.person_id,
                "pool_positive_member",
            )
            # The temporary measure's single-tube retest is ordered for the day after the pooled sample.
            (order,) = session.scalars(select(TestOrder).where(TestOrder.source == f"recall:{r.id}"))
            assert (order.due_date, order.state) == (dt.date(2026, 12, 7), OrderState.open)
        assert [type(e) for e in seen] == [PoolFoundPositive]
        assert isinstance(seen[0], PoolFoundPositive) and seen[0].members == 3
        assert recall.recall_list(session, me, state=RecallState.located) == []
    with acting_as(app, "away_testing_coordinator") as (session, other):
        assert recall.recall_list(session, other) == []
        with pytest.raises(NotFound):
            recall.mark_located(session, app.state.bus, other, flagged[0].id)


def test_the_time_from_pool_result_to_every_member_located_is_measured(
    app, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _positive_pool(app, world, tmp_path, [])
    with acting_as(app, COORDINATOR) as (session, me):
        flagged = recall.recall_list(session, me)
        tube_id = flagged[0].tube_id
        timing = recall.recall_timing(session, me, tube_id)
        assert (timing.members, timing.located, timing.hours_to_all_located) == (3, 0, None)
        # The pool resulted at 14:00 Shanghai (06:00 UTC); the members are found at 08:00, 09:30, 10:00 UTC.
        for r, hour in zip(flagged, (8.0, 9.5, 10.0), strict=True):
            at = dt.datetime(2026, 12, 6, tzinfo=dt.UTC) + dt.timedelta(hours=hour)
            recall.mark_located(session, app.state.bus, me, r.id, at=at)
        recall.mark_located(session, app.state.bus, me, flagged[0].id, at=SAMPLED)  # again: nothing changes
        timing = recall.recall_timing(session, me, tube_id)
        assert (timing.members, timing.located) == (3, 3)
        assert timing.pool_resulted_at == dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)
        assert timing.hours_to_all_located == pytest.approx(4.0)
        assert timing.within_deadline is True
        assert {r.state for r in recall.recall_list(session, me, tube_id=tube_id)} == {RecallState.located}


def test_a_single_tube_positive_retest_opens_a_case_and_a_negative_clears_release(
    app, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seen: list[DomainEvent] = []
    bus, _report, people = _positive_pool(app, world, tmp_path, seen)
    with acting_as(app, COORDINATOR) as (session, me):
        by_person = {r.person_id: r for r in recall.recall_list(session, me)}
        sick, well = by_person[people[0]], by_person[people[1]]
        recall.record_retest(session, me, sick.id, "R-0001", at=dt.datetime(2026, 12, 6, 23, tzinfo=dt.UTC))
        with pytest.raises(Conflict):
            recall.record_retest(session, me, sick.id, "R-0009")
        view = recall.record_retest(
            session,
            me,
            well.id,
            "R-0002",
            at=dt.datetime(2026, 12, 6, 23, tzinfo=dt.UTC),
            result=TestResult.negative,
            tested_at=dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC),
            bus=bus,
        )
        assert (view.state, view.result, view.retest_barcode) == (
            RecallState.retested,
            TestResult.negative,
            "R-0002",
        )
        assert view.located_at is not None
    path = write_results(tmp_path / "retest.csv", [("R-0001", "阳性", "25.0", "24.0", "2026-12-07 10:00")])
    frozen_clock.set(dt.datetime(2026, 12, 7, 4, tzinfo=dt.UTC))
    with acting_as(app, "home_laboratory") as (session, lab):
        report = results.load_results(session, lab, path, bus=bus)
        assert report.positive_people == 1
    with acting_as(app, COORDINATOR) as (session, me):
        after = {r.person_id: r for r in recall.recall_list(session, me)}
        assert (after[people[0]].state, after[people[0]].result) == (
            RecallState.retested,
            TestResult.positive,
        )
        case = session.scalar(select(Case).where(Case.subject_key == subject_key(people[0], None)))
        assert case is not None and case.sampling_date == dt.date(2026, 12, 7)
        assert session.scalar(select(Case).where(Case.subject_key == subject_key(people[1], None))) is None
        positive = [e for e in seen if isinstance(e, PersonTestedPositive)]
        assert [(e.person_id, e.origin) for e in positive] == [(people[0], f"recall:{sick.id}")]
        # The temporary measure's order took both retests: the negative one no longer holds release.
        retests = {
            o.person_id: (o.state, o.result)
            for o in session.scalars(select(TestOrder).where(TestOrder.source.like("recall:%")))
        }
        assert retests[people[0]] == (OrderState.resulted, TestResult.positive)
        assert retests[people[1]] == (OrderState.resulted, TestResult.negative)
        keys = [(people[1], f"recall:{well.id}"), (people[2], f"recall:{by_person[people[2]].id}")]
        assert orders.release_holds(session, keys, dt.date(2026, 12, 7)) == {keys[1]}
