"""The deadline sweeper: warns, notifies the supervisor and escalates tasks whose clocks have come
(``rules.deadlines`` says when), and keeps the communities' "overdue tests" tasks in step with the
test orders. Run inside the app (``POST /api/response/sweep``) and from the CLI (``fangkong response
sweep``, what a scheduler calls every few minutes).

Idempotent and safe with several workers: every step is a conditional UPDATE (``... WHERE warned_at IS
NULL``) whose returned rows are the only ones that get a history entry, so two sweeps at once never
fire a step twice; on PostgreSQL a sweep also takes a transaction-scoped advisory lock first and,
when another sweep holds it, returns at once as ``skipped``. On SQLite the database's single write lock
serialises the sweeps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.clock import local_day, utcnow
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.response.models import Fulfilment, Task, TaskEvent, TaskState, Trigger
from fangkong.response.rules.deadlines import Step, escalate_at
from fangkong.response.service.handlers import close_fulfilled
from fangkong.response.service.opening import SYSTEM_ACTOR, Subject, open_many

UNFINISHED = (TaskState.open, TaskState.in_progress)
# Key of the PostgreSQL advisory lock only one sweep holds at a time ("fangkong response sweep").
ADVISORY_LOCK_KEY = 0x66_6B_73_77  # "fksw"


@dataclass
class SweepReport:
    at: dt.datetime
    skipped: bool = False
    warned: list[int] = field(default_factory=list)
    notified: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "skipped": self.skipped,
            "warned": self.warned,
            "supervisor_notified": self.notified,
            "escalated": self.escalated,
            "opened": self.opened,
            "closed": self.closed,
        }


def _history(
    session: Session, rows: list[tuple[int, str]], kind: Step, at: dt.datetime, note: str | None
) -> None:
    if rows:
        session.execute(
            insert(TaskEvent),
            [
                {"task_id": i, "at": at, "kind": kind.value, "actor": SYSTEM_ACTOR, "jpath": p, "note": note}
                for i, p in rows
            ],
        )


def _warn(session: Session, now: dt.datetime) -> list[int]:
    rows = session.execute(
        update(Task)
        .where(Task.state.in_(UNFINISHED), Task.warned_at.is_(None), Task.warn_at <= now, Task.due_at > now)
        .values(warned_at=now)
        .returning(Task.id, Task.jpath),
        execution_options={"synchronize_session": False},
    ).all()
    _history(session, [(i, p) for i, p in rows], Step.warn, now, Message("the deadline is near").dumps())
    return sorted(i for i, _ in rows)


def _notify(session: Session, now: dt.datetime) -> list[int]:
    rows = session.execute(
        update(Task)
        .where(Task.state.in_(UNFINISHED), Task.supervisor_notified_at.is_(None), Task.due_at <= now)
        .values(supervisor_notified_at=now, late=True)
        .returning(Task.id, Task.jpath),
        execution_options={"synchronize_session": False},
    ).all()
    _history(
        session,
        [(i, p) for i, p in rows],
        Step.notify_supervisor,
        now,
        Message("the deadline has passed").dumps(),
    )
    return sorted(i for i, _ in rows)


def _parents(session: Session, ids: set[int]) -> dict[int, Jurisdiction]:
    """The jurisdiction each of ``ids`` escalates to (none at the top, or at the top of a sandbox)."""
    nodes = {j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))}
    parent_ids = {j.parent_id for j in nodes.values() if j.parent_id is not None}
    parents = {j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(parent_ids)))}
    found: dict[int, Jurisdiction] = {}
    for node in nodes.values():
        parent = parents.get(node.parent_id) if node.parent_id is not None else None
        if parent is None or (node.is_sandbox and not parent.is_sandbox):
            continue  # a drill's task stays in its sandbox: the real county above is no part of it
        found[node.id] = parent
    return found


def _escalate(session: Session, now: dt.datetime) -> list[int]:
    candidates = session.execute(
        select(Task.id, Task.jurisdiction_id, Task.due_at, Task.warn_at).where(
            Task.state.in_(UNFINISHED), Task.escalated_at.is_(None), Task.due_at <= now
        )
    ).all()
    ready: dict[int, list[int]] = defaultdict(list)
    for task_id, owner_id, due_at, warn_at in candidates:
        if escalate_at(due_at, warn_at) <= now:
            ready[owner_id].append(task_id)
    if not ready:
        return []
    parents = _parents(session, set(ready))
    names = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(set(ready)))
        ).all()
    )
    moved: list[int] = []
    for owner_id, task_ids in ready.items():
        parent = parents.get(owner_id)
        if parent is None:
            continue
        rows = session.execute(
            update(Task)
            .where(
                Task.id.in_(task_ids),
                Task.escalated_at.is_(None),
                Task.jurisdiction_id == owner_id,
                Task.state.in_(UNFINISHED),
            )
            .values(
                jurisdiction_id=parent.id,
                jpath=parent.path,
                escalated_at=now,
                escalations=Task.escalations + 1,
                late=True,
            )
            .returning(Task.id, Task.jpath),
            execution_options={"synchronize_session": False},
        ).all()
        note = Message(
            "moved from {source} to {target}", source=names.get(owner_id, ""), target=parent.name
        ).dumps()
        _history(session, [(i, p) for i, p in rows], Step.escalate, now, note)
        moved += [i for i, _ in rows]
    return sorted(moved)


def _overdue_tests(session: Session, now: dt.datetime) -> tuple[list[int], list[int]]:
    """Open a task for each community with overdue tests (one at a time), close those with none left."""
    from fangkong.testing.service.orders import overdue_by_community

    day = local_day(now)
    overdue = {path: n for path, n in overdue_by_community(session, day) if n > 0}
    nodes = (
        list(session.scalars(select(Jurisdiction).where(Jurisdiction.path.in_(set(overdue)))))
        if overdue
        else []
    )
    open_rows = session.execute(
        select(Task.subject_id).where(Task.trigger == Trigger.test_overdue, Task.state.in_(UNFINISHED))
    ).all()
    already = {r.subject_id for r in open_rows}
    subjects = [
        Subject("community", j.id, f"{j.code}/{day.isoformat()}", j.path, now)
        for j in nodes
        if j.id not in already
    ]
    opened = [t.id for t in open_many(session, Trigger.test_overdue, subjects)]
    clear = already - {j.id for j in nodes}
    closed = (
        close_fulfilled(
            session,
            [
                Task.trigger == Trigger.test_overdue,
                Task.fulfilment == Fulfilment.test_done,
                Task.subject_id.in_(sorted(clear)),
            ],
            Message("no overdue test left in the community").dumps(),
            now=now,
        )
        if clear
        else []
    )
    return opened, closed


def _locked_elsewhere(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    return not session.scalar(select(func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY)))


def sweep(
    session: Session, now: dt.datetime | None = None, *, actor: audit.Actor = audit.SYSTEM
) -> SweepReport:
    """Fire every step whose time has come, once; returns what fired (``skipped``: another sweep runs)."""
    at = now or utcnow()
    report = SweepReport(at=at)
    if _locked_elsewhere(session):
        report.skipped = True
        return report
    report.warned = _warn(session, at)
    report.notified = _notify(session, at)
    report.escalated = _escalate(session, at)
    report.opened, report.closed = _overdue_tests(session, at)
    # The UPDATEs above bypassed the objects a caller may hold: read them again when next touched.
    session.expire_all()
    if report.warned or report.notified or report.escalated or report.opened or report.closed:
        audit.record(
            session,
            actor,
            "response.sweep",
            "task_sweep",
            at.isoformat(timespec="seconds"),
            detail={
                "warned": len(report.warned),
                "supervisor_notified": len(report.notified),
                "escalated": report.escalated[:200],
                "opened": len(report.opened),
                "closed": len(report.closed),
            },
        )
    return report
