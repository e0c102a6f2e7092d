"""The tasks engine at the service level: every trigger opens its tasks and the records that fulfil
them close them; opening is idempotent and set-based; a drill's task never leaves its sandbox; the
sweeper keeps the communities' overdue-test tasks in step; two sweeps at once never fire twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from tasks_support import wire

from conftest import HOME_COUNTY, World
from fangkong.core import audit, clock
from fangkong.core.db import Database
from fangkong.core.jurisdictions import create_sandbox
from fangkong.core.models import Jurisdiction
from fangkong.response.models import Task, TaskEvent, TaskState, Trigger
from fangkong.response.service import handlers, opening, sweeper, templates

COMMUNITY = "330106001001"


def _path(session, code: str) -> str:  # type: ignore[no-untyped-def]
    return session.scalar(select(Jurisdiction.path).where(Jurisdiction.code == code))


def _tasks(session, kind: str, subject_id: int) -> dict[str, Task]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(Task).where(Task.subject_kind == kind, Task.subject_id == subject_id))
    return {t.code: t for t in rows}


def test_seeding_templates_is_idempotent(db: Database, world: World) -> None:
    with db.unit_of_work() as session:
        assert templates.seed_templates(session) == len(templates.DEFAULT_TEMPLATES)
        assert templates.seed_templates(session) == 0
        assert all(t.source for t in templates.list_templates(session))


def test_every_trigger_opens_its_tasks_and_their_records_close_them(db: Database, world: World) -> None:
    from fangkong.areas.events import DoorstepRequested, RiskAreaDesignated
    from fangkong.core.events import EventBus
    from fangkong.quarantine.events import QuarantineSiteActivated
    from fangkong.surveillance.events import AlertAnswered, AlertRaised
    from fangkong.testing.events import PoolFoundPositive, PoolRecalled
    from fangkong.tracing.events import AssistRequested, CaseReclassified, CaseReported

    bus = wire(EventBus())
    now = clock.utcnow()
    with db.unit_of_work() as session:
        community, county = _path(session, COMMUNITY), _path(session, HOME_COUNTY)
        bus.publish(session, CaseReported(11, community, "suspected", None, False, False))
        assert _tasks(session, "case", 11) == {}
        bus.publish(session, CaseReclassified(11, community, "suspected", "confirmed"))
        assert len(_tasks(session, "case", 11)) == 7
        bus.publish(session, CaseReported(12, community, "asymptomatic", None, False, False))
        bus.publish(session, CaseReported(12, community, "asymptomatic", None, False, False))
        assert len(_tasks(session, "case", 12)) == 7

        bus.publish(session, AlertRaised(5, world.jurisdictions[HOME_COUNTY], county, "red", "聚集", now))
        bus.publish(
            session,
            AssistRequested(6, world.jurisdictions[HOME_COUNTY], county, now, now + dt.timedelta(hours=8)),
        )
        bus.publish(session, PoolFoundPositive(7, "P-0007", community, 10, now))
        bus.publish(session, QuarantineSiteActivated(8, county, 1, 6))
        bus.publish(session, DoorstepRequested(9, community, "medicine", now))
        bus.publish(session, DoorstepRequested(10, community, "medical_emergency", now))
        alert = _tasks(session, "alert", 5)["verify_alert"]
        assert alert.due_at == now + dt.timedelta(hours=2) and alert.jpath == county
        assert _tasks(session, "assist", 6)["locate_assisted_contact"].due_at == now + dt.timedelta(hours=8)
        assert _tasks(session, "pool", 7)["recall_pool_members"].subject_ref == "P-0007"
        site = _tasks(session, "site", 8)["open_site"]
        assert site.due_at - site.opened_at == dt.timedelta(hours=6)
        assert _tasks(session, "doorstep", 9)["serve_doorstep_request"].jpath == community
        emergency = _tasks(session, "doorstep", 10)["serve_doorstep_request"]
        assert emergency.due_at == now + dt.timedelta(minutes=30)

        bus.publish(session, AlertAnswered(5, county, "confirmed", now + dt.timedelta(minutes=30)))
        bus.publish(session, PoolRecalled(7, community, now + dt.timedelta(hours=3)))
        bus.publish(session, RiskAreaDesignated(3, community, "high"))
        bus.publish(session, CaseReclassified(12, community, "asymptomatic", "excluded"))
        session.expire_all()
        closed = _tasks(session, "alert", 5)["verify_alert"]
        assert (
            closed.state is TaskState.done and closed.closed_by == "system" and "confirmed" in closed.evidence
        )
        assert _tasks(session, "pool", 7)["recall_pool_members"].state is TaskState.done
        assert _tasks(session, "case", 11)["risk_area_proposed"].state is TaskState.done
        # The excluded case's open tasks are cancelled with the reason (its risk area was already done).
        cancelled = {c: t for c, t in _tasks(session, "case", 12).items() if c != "risk_area_proposed"}
        assert {t.state for t in cancelled.values()} == {TaskState.cancelled}
        assert all(t.cancel_reason for t in cancelled.values())
        kinds = session.scalars(select(TaskEvent.kind).where(TaskEvent.task_id == closed.id)).all()
        assert kinds == ["opened", "done"]


def test_a_case_registered_at_the_county_is_owned_by_the_county(db: Database, world: World) -> None:
    with db.unit_of_work() as session:
        county = _path(session, HOME_COUNTY)
        opened = opening.open_tasks(
            session,
            Trigger.case_confirmed,
            subject_kind="case",
            subject_id=77,
            subject_ref="case:77",
            jpath=county,
            happened_at=clock.utcnow(),
        )
        assert {t.jpath for t in opened} == {county}
        assert {t.origin_jpath for t in opened} == {county}


def test_a_burst_of_cases_opens_set_based(db: Database, world: World) -> None:
    with db.unit_of_work() as session:
        community = _path(session, COMMUNITY)
        now = clock.utcnow()
        subjects = [opening.Subject("case", i, f"case:{i}", community, now) for i in range(1, 201)]
        opened = opening.open_many(session, Trigger.case_confirmed, subjects)
        assert len(opened) == 1400
        assert opening.open_many(session, Trigger.case_confirmed, subjects) == []
        assert session.scalar(select(func.count(TaskEvent.id))) == 1400


def test_a_drill_task_never_escalates_out_of_its_sandbox(db: Database, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as session:
        county = session.get(Jurisdiction, world.jurisdictions[HOME_COUNTY])
        township, members = create_sandbox(session, audit.SYSTEM, county, label="t", communities=1)
        opened = opening.open_tasks(
            session,
            Trigger.case_confirmed,
            subject_kind="case",
            subject_id=1,
            subject_ref="case:1",
            jpath=members[0].path,
            happened_at=clock.utcnow(),
        )
        assert {t.jpath for t in opened} == {township.path}
        report = sweeper.sweep(session, clock.utcnow() + dt.timedelta(days=3))
        assert len(report.notified) == 7 and report.escalated == []


def test_the_sweeper_follows_the_overdue_tests(
    db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fangkong.testing.service import orders

    with db.unit_of_work() as session:
        community = _path(session, COMMUNITY)
    counts = [(community, 3)]
    monkeypatch.setattr(orders, "overdue_by_community", lambda _session, _on: list(counts))
    with db.unit_of_work() as session:
        report = sweeper.sweep(session)
        assert len(report.opened) == 1
        (task,) = session.scalars(select(Task).where(Task.trigger == Trigger.test_overdue)).all()
        assert task.jpath == community and task.subject_ref.startswith(COMMUNITY + "/")
        task_id = task.id
        assert sweeper.sweep(session).opened == []
    counts.clear()
    with db.unit_of_work() as session:
        report = sweeper.sweep(session)
        assert report.closed == [task_id]
        assert session.get(Task, task_id).state is TaskState.done


def test_two_sweeps_at_once_fire_each_step_once(db: Database, world: World) -> None:
    with db.unit_of_work() as session:
        community = _path(session, COMMUNITY)
        now = clock.utcnow()
        subjects = [opening.Subject("case", i, f"case:{i}", community, now) for i in range(1, 31)]
        opening.open_many(session, Trigger.case_confirmed, subjects)
    later = now + dt.timedelta(days=2)
    start = threading.Barrier(2)
    reports: list[sweeper.SweepReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with db.unit_of_work() as session:
                reports.append(sweeper.sweep(session, later))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    notified = [i for r in reports for i in r.notified]
    escalated = [i for r in reports for i in r.escalated]
    assert len(notified) == len(set(notified)) == 210
    assert len(escalated) == len(set(escalated)) == 210
    with db.unit_of_work() as session:
        fired = session.execute(
            select(TaskEvent.task_id, TaskEvent.kind, func.count(TaskEvent.id))
            .where(TaskEvent.kind != "opened")
            .group_by(TaskEvent.task_id, TaskEvent.kind)
        ).all()
        assert fired and all(n == 1 for _, _, n in fired)


def test_on_postgresql_a_second_sweep_is_skipped_while_one_runs(db: Database, world: World) -> None:
    if not db.is_postgres:
        pytest.skip("the advisory lock is PostgreSQL's")
    with db.unit_of_work() as first:
        assert sweeper.sweep(first).skipped is False  # holds the lock until this block commits
        result: list[sweeper.SweepReport] = []
        thread = threading.Thread(target=lambda: result.append(_sweep_in_own_session(db)))
        thread.start()
        thread.join()
        assert result[0].skipped is True
    assert _sweep_in_own_session(db).skipped is False


def _sweep_in_own_session(db: Database) -> sweeper.SweepReport:
    with db.unit_of_work() as session:
        return sweeper.sweep(session)


def test_handlers_close_contacts_transferred_only_when_every_close_contact_is_isolated(
    db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fangkong.tracing import service as tracing

    isolated = {"n": 1}
    monkeypatch.setattr(tracing, "close_contacts_isolated", lambda _s, _case: (2, isolated["n"]))
    with db.unit_of_work() as session:
        community = _path(session, COMMUNITY)
        opening.open_tasks(
            session, Trigger.case_confirmed, subject_kind="case", subject_id=4, subject_ref="case:4",
            jpath=community, happened_at=clock.utcnow(),
        )  # fmt: skip
        assert handlers.contacts_isolated(session, {4}) == []
        isolated["n"] = 2
        assert len(handlers.contacts_isolated(session, {4})) == 1


def test_a_subject_task_is_completed_by_code_and_counted(db: Database, world: World) -> None:
    from tasks_support import as_user  # noqa: F401 - the same helper the API tests use

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User
    from fangkong.response.service import tasks

    with db.unit_of_work() as session:
        community, county = _path(session, COMMUNITY), _path(session, HOME_COUNTY)
        opening.open_tasks(
            session, Trigger.case_confirmed, subject_kind="case", subject_id=8, subject_ref="case:8",
            jpath=community, happened_at=clock.utcnow() - dt.timedelta(hours=3),
        )  # fmt: skip
        user = session.scalar(select(User).where(User.username == "home_investigator"))
        me = principal_for(session, user, "token")
        done = tasks.complete_subject_task(session, me, "team_on_site", "case", 8, evidence="到场")
        assert done is not None and done.state is TaskState.done and done.late is True
        assert tasks.complete_subject_task(session, me, "team_on_site", "case", 8, evidence="x") is None
        assert tasks.counts_under(session, county) == (6, 0)
        assert tasks.counts_under(session, "/~/") == (0, 0)
