"""The verification workflow, response clocks, escalation and CIDARS-style statistics (pure rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.surveillance.models import AlertLevel, AlertStatus
from fangkong.surveillance.rules import (
    AlertFacts,
    TransitionRefusedError,
    clock_state,
    next_status,
    period_start,
    raise_level,
    response_statistics,
    should_escalate,
)

T0 = dt.datetime(2024, 3, 20, 8, 0, tzinfo=dt.UTC)


def hours(h: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=h)


@pytest.mark.parametrize(
    ("current", "action", "target"),
    [
        (AlertStatus.signal, "verify", AlertStatus.verifying),
        (AlertStatus.signal, "dismiss", AlertStatus.dismissed),
        (AlertStatus.verifying, "confirm", AlertStatus.confirmed),
        (AlertStatus.verifying, "dismiss", AlertStatus.dismissed),
    ],
)
def test_the_workflow_allows_verification_then_an_outcome(
    current: AlertStatus, action: str, target: AlertStatus
) -> None:
    assert next_status(current, action) is target


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (AlertStatus.signal, "confirm"),  # an event is confirmed only after verification
        (AlertStatus.verifying, "verify"),
        (AlertStatus.confirmed, "dismiss"),
        (AlertStatus.dismissed, "verify"),
        (AlertStatus.signal, "escalate"),
    ],
)
def test_the_workflow_refuses_other_steps(current: AlertStatus, action: str) -> None:
    with pytest.raises(TransitionRefusedError):
        next_status(current, action)


def test_levels_rise_one_step_and_stop_at_red() -> None:
    assert raise_level(AlertLevel.blue) is AlertLevel.yellow
    assert raise_level(AlertLevel.yellow, 2) is AlertLevel.red
    assert raise_level(AlertLevel.red) is AlertLevel.red


def test_the_clock_counts_down_then_overdue_then_stops_when_answered() -> None:
    due = hours(2)
    running = clock_state(T0, due, None, hours(0.5))
    assert (running.responded, running.overdue, running.seconds) == (False, False, 1.5 * 3600)
    late = clock_state(T0, due, None, hours(3))
    assert (late.overdue, late.seconds) == (True, -3600)
    answered = clock_state(T0, due, hours(1.25), hours(10))
    assert (answered.responded, answered.overdue, answered.seconds) == (True, False, 1.25 * 3600)
    answered_late = clock_state(T0, due, hours(2.5), hours(10))
    assert answered_late.overdue


def test_naive_times_from_sqlite_count_as_utc() -> None:
    state = clock_state(T0.replace(tzinfo=None), hours(2).replace(tzinfo=None), None, hours(1))
    assert state.seconds == 3600


def test_only_unanswered_overdue_alerts_with_a_parent_escalate() -> None:
    assert should_escalate(AlertStatus.signal, hours(24), hours(25), has_parent=True)
    assert not should_escalate(AlertStatus.signal, hours(24), hours(23), has_parent=True)
    assert not should_escalate(AlertStatus.verifying, hours(24), hours(25), has_parent=True)
    assert not should_escalate(AlertStatus.signal, hours(24), hours(25), has_parent=False)


def test_statistics_match_a_hand_count() -> None:
    alerts = [
        AlertFacts(T0, hours(0.5), AlertStatus.dismissed, 2),  # in time for 2 h
        AlertFacts(T0, hours(3), AlertStatus.verifying, 2),  # late for 2 h, within 24 h
        AlertFacts(T0, hours(20), AlertStatus.confirmed, 24),  # in time for 24 h
        AlertFacts(T0, hours(30), AlertStatus.dismissed, 24, escalations=1),  # late
        AlertFacts(T0, None, AlertStatus.signal, 24),  # unanswered, overdue at hours(40)
    ]
    s = response_statistics(alerts, hours(40))
    assert (s.alerts, s.responded, s.response_rate) == (5, 4, 0.8)
    assert s.median_response_hours == pytest.approx((3 + 20) / 2)
    # R type 7 quantiles of 0.5, 3, 20, 30.
    assert s.p25_response_hours == pytest.approx(0.5 + 0.75 * 2.5)
    assert s.p75_response_hours == pytest.approx(20 + 0.25 * 10)
    assert s.within_2h == pytest.approx(1 / 5)
    assert s.within_24h == pytest.approx(3 / 5)
    assert s.within_deadline == pytest.approx(2 / 5)
    assert (s.overdue_open, s.escalated, s.verifying, s.confirmed, s.dismissed) == (1, 1, 1, 1, 2)
    assert s.confirmed_rate == pytest.approx(1 / 5)


def test_statistics_of_nothing_are_empty_not_zero() -> None:
    s = response_statistics([], T0)
    assert s.alerts == 0
    assert s.response_rate is None
    assert s.median_response_hours is None
    assert s.within_2h is None


def test_weekly_values_are_filed_under_monday() -> None:
    sunday = dt.date(2024, 3, 17)
    assert period_start(sunday, weekly=True) == dt.date(2024, 3, 11)
    assert period_start(dt.date(2024, 3, 11), weekly=True) == dt.date(2024, 3, 11)
    assert period_start(sunday, weekly=False) == sunday
