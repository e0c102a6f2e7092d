"""Deadline clocks of a task, as pure decisions (no database, no clock of its own).

A task's clocks are computed once, from its template and the moment the event happened:

- ``due_at`` = the moment + the template's minutes: the promise ("core facts within 4 h"). It never
  moves: neither escalation nor reassignment restarts it, so lateness is always measured against the
  first clock.
- ``warn_at`` = ``due_at`` - the template's warning window (never before the moment itself): the owner
  is warned that the deadline is near.

What the sweeper does with an unfinished task at ``now`` (:func:`due_steps`), in order:

1. **warn** the owner once ``now >= warn_at``, while the deadline has not passed (a warning after the
   deadline says nothing the supervisor's notice does not);
2. **notify the supervisor** once ``now >= due_at``; the task is late from then on;
3. **escalate** to the parent jurisdiction once ``now >= escalate_at`` (:func:`escalate_at`), i.e. after
   a grace equal to the template's warning window (at least :data:`MIN_GRACE`): the supervisor gets the
   same time to act that the owner had between the warning and the deadline, before the level above
   takes the task over. A task escalates once; the levels above see it through their own scope anyway.
   A task with nowhere to go (the top of the tree, or the top of a drill's sandbox) is not escalated.

A sweeper that did not run for a while catches up in one call: every step whose time has come fires
(except the warning, as said), so nothing is silently skipped.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

# The shortest grace between notifying the supervisor and escalating, however small the template's
# warning window: a supervisor told at the deadline needs a few minutes to act.
MIN_GRACE = dt.timedelta(minutes=15)


class Step(enum.StrEnum):
    """What the sweeper does to a task; also the kind of the task's history entry."""

    warn = "warned"
    notify_supervisor = "supervisor_notified"
    escalate = "escalated"


@dataclass(frozen=True)
class Clocks:
    due_at: dt.datetime
    warn_at: dt.datetime


def clocks(happened_at: dt.datetime, minutes: int, warn_minutes: int) -> Clocks:
    """The deadline and the warning time of a task opened by an event at ``happened_at``."""
    if minutes <= 0:
        raise ValueError("a deadline must be at least one minute after the event")
    due = happened_at + dt.timedelta(minutes=minutes)
    warn = due - dt.timedelta(minutes=max(0, warn_minutes))
    return Clocks(due_at=due, warn_at=max(warn, happened_at))


def grace(due_at: dt.datetime, warn_at: dt.datetime) -> dt.timedelta:
    """The time the supervisor has between the deadline and the escalation: the warning window."""
    return max(due_at - warn_at, MIN_GRACE)


def escalate_at(due_at: dt.datetime, warn_at: dt.datetime) -> dt.datetime:
    """When an unfinished task passes to the level above (the first clock plus the grace)."""
    return due_at + grace(due_at, warn_at)


@dataclass(frozen=True)
class TaskClock:
    """What the sweeper knows of one unfinished task."""

    due_at: dt.datetime
    warn_at: dt.datetime
    warned_at: dt.datetime | None
    supervisor_notified_at: dt.datetime | None
    escalated_at: dt.datetime | None
    # Whether there is a jurisdiction above the owner the task may go to.
    can_escalate: bool = True


def due_steps(task: TaskClock, now: dt.datetime) -> tuple[Step, ...]:
    """The steps that fall due for an unfinished task at ``now``, in the order they fire."""
    steps: list[Step] = []
    if task.warned_at is None and task.warn_at <= now < task.due_at:
        steps.append(Step.warn)
    if task.supervisor_notified_at is None and now >= task.due_at:
        steps.append(Step.notify_supervisor)
    if task.escalated_at is None and task.can_escalate and now >= escalate_at(task.due_at, task.warn_at):
        steps.append(Step.escalate)
    return tuple(steps)


def is_late(due_at: dt.datetime, closed_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Late: closed after its deadline, or still open past it."""
    return (closed_at if closed_at is not None else now) > due_at


def remaining(due_at: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """Time left before the deadline (negative: how late)."""
    return due_at - now
