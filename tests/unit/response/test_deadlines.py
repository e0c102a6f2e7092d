"""The deadline clocks of a task: due and warning times, and what the sweeper does at each moment."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.response.rules.deadlines import (
    MIN_GRACE,
    Step,
    TaskClock,
    clocks,
    due_steps,
    escalate_at,
    is_late,
    remaining,
)

T0 = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)


def _task(**changes: object) -> TaskClock:
    c = clocks(T0, 240, 60)
    values: dict[str, object] = {
        "due_at": c.due_at,
        "warn_at": c.warn_at,
        "warned_at": None,
        "supervisor_notified_at": None,
        "escalated_at": None,
        "can_escalate": True,
    }
    values.update(changes)
    return TaskClock(**values)  # type: ignore[arg-type]


def test_clocks_count_from_the_event() -> None:
    c = clocks(T0, 240, 60)
    assert c.due_at == T0 + dt.timedelta(hours=4)
    assert c.warn_at == T0 + dt.timedelta(hours=3)


def test_a_warning_window_longer_than_the_deadline_warns_at_the_event() -> None:
    assert clocks(T0, 30, 60).warn_at == T0


def test_a_deadline_must_be_after_the_event() -> None:
    with pytest.raises(ValueError, match="at least one minute"):
        clocks(T0, 0, 0)


def test_escalation_waits_the_warning_window_after_the_deadline() -> None:
    c = clocks(T0, 240, 60)
    assert escalate_at(c.due_at, c.warn_at) == c.due_at + dt.timedelta(hours=1)


def test_escalation_waits_at_least_the_minimum_grace() -> None:
    c = clocks(T0, 240, 0)
    assert escalate_at(c.due_at, c.warn_at) == c.due_at + MIN_GRACE


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (0, ()),
        (2.99, ()),
        (3, (Step.warn,)),
        (3.5, (Step.warn,)),
        (4, (Step.notify_supervisor,)),
        (4.99, (Step.notify_supervisor,)),
        (5, (Step.notify_supervisor, Step.escalate)),
        (48, (Step.notify_supervisor, Step.escalate)),
    ],
)
def test_steps_of_an_untouched_task(hours: float, expected: tuple[Step, ...]) -> None:
    assert due_steps(_task(), T0 + dt.timedelta(hours=hours)) == expected


def test_a_step_fired_once_is_not_fired_again() -> None:
    warned = _task(warned_at=T0 + dt.timedelta(hours=3))
    assert due_steps(warned, T0 + dt.timedelta(hours=3, minutes=30)) == ()
    notified = _task(warned_at=T0, supervisor_notified_at=T0 + dt.timedelta(hours=4))
    assert due_steps(notified, T0 + dt.timedelta(hours=4, minutes=30)) == ()
    assert due_steps(notified, T0 + dt.timedelta(hours=5)) == (Step.escalate,)
    escalated = _task(warned_at=T0, supervisor_notified_at=T0, escalated_at=T0 + dt.timedelta(hours=5))
    assert due_steps(escalated, T0 + dt.timedelta(days=3)) == ()


def test_a_task_with_nowhere_to_go_is_not_escalated() -> None:
    top = _task(can_escalate=False)
    assert due_steps(top, T0 + dt.timedelta(hours=10)) == (Step.notify_supervisor,)


def test_lateness_is_measured_against_the_first_clock() -> None:
    due = clocks(T0, 120, 30).due_at
    assert not is_late(due, due, due + dt.timedelta(hours=5))
    assert is_late(due, due + dt.timedelta(seconds=1), due)
    assert is_late(due, None, due + dt.timedelta(seconds=1))
    assert not is_late(due, None, due)
    assert remaining(due, due + dt.timedelta(minutes=10)) == -dt.timedelta(minutes=10)
