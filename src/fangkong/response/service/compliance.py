"""The task clocks as other capabilities read them: when each line of work opened, was due and closed.

The drill's score judges "2+4+24" (team on site in 2 h, core facts in 4 h, contacts identified in
24 h) and the alert response from these clocks, in its own drill hours; the tasks themselves stay on
the platform's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.scope import under
from fangkong.response.models import Task, TaskState

# The codes of "2+4+24" (Shanghai's case-handling promise), in the order the promise names them.
TWO_FOUR_TWENTY_FOUR: tuple[str, ...] = ("team_on_site", "core_facts", "contacts_identified")
ALERT_VERIFICATION: tuple[str, ...] = ("verify_alert",)


@dataclass(frozen=True)
class TaskClock:
    code: str
    subject_ref: str
    opened_at: dt.datetime
    due_at: dt.datetime
    # When it was done (None while open, or when it was cancelled: a cancelled task is not judged).
    done_at: dt.datetime | None
    cancelled: bool

    @property
    def allowed(self) -> dt.timedelta:
        return self.due_at - self.opened_at


def task_clocks(session: Session, principal: Principal, codes: Sequence[str]) -> list[TaskClock]:
    """The clocks of the tasks with these template codes opened for events in the caller's area."""
    rows = session.execute(
        select(Task.code, Task.subject_ref, Task.opened_at, Task.due_at, Task.closed_at, Task.state)
        .where(under(Task.origin_jpath, principal.jpath), Task.code.in_(list(codes)))
        .order_by(Task.id)
    ).all()
    return [
        TaskClock(
            code,
            ref,
            opened,
            due,
            closed if state is TaskState.done else None,
            state is TaskState.cancelled,
        )
        for code, ref, opened, due, closed, state in rows
    ]


def open_task_of(session: Session, code: str, subject_kind: str, subject_id: int) -> int | None:
    """The id of the task of this template code still open for this subject, if there is one."""
    return session.scalar(
        select(Task.id).where(
            Task.code == code,
            Task.subject_kind == subject_kind,
            Task.subject_id == subject_id,
            Task.state.in_([TaskState.open, TaskState.in_progress]),
        )
    )


def open_and_late(session: Session, jpath: str) -> tuple[int, int]:
    """Tasks still open (or in progress) for events under ``jpath``, and how many of them are late."""
    from sqlalchemy import func

    row = session.execute(
        select(func.count(), func.count().filter(Task.late.is_(True))).where(
            under(Task.origin_jpath, jpath), Task.state.in_([TaskState.open, TaskState.in_progress])
        )
    ).one()
    return int(row[0]), int(row[1])


def open_tasks_of(session: Session, subject_kind: str, subject_id: int) -> list[tuple[int, str, dt.datetime]]:
    """(id, code, due) of the tasks still open for this subject, by deadline."""
    rows = session.execute(
        select(Task.id, Task.code, Task.due_at)
        .where(
            Task.subject_kind == subject_kind,
            Task.subject_id == subject_id,
            Task.state.in_([TaskState.open, TaskState.in_progress]),
        )
        .order_by(Task.due_at, Task.id)
    ).all()
    return [(int(i), str(c), d) for i, c, d in rows]
