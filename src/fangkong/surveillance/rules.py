"""Pure decisions of surveillance: the verification workflow, response clocks, escalation and the
CIDARS-style response statistics. No I/O; unit-tested without a database.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fangkong.core.clock import as_utc
from fangkong.core.i18n import Message, as_message
from fangkong.surveillance.models import AlertLevel, AlertStatus

RESPONSE_HOURS_SINGLE_CASE = 2
"""hours to respond to a fixed-threshold (single-case) alert; CIDARS reports the "2 h response rate" of
fixed-threshold signals (Disease Surveillance 2018;33(2):159-167, via reference ALGORITHMS.md section 1;
the target itself is inferred from that metric)."""

RESPONSE_HOURS_TEMPORAL = 24
"""hours to respond to a temporal (moving percentile and other detector) alert; CIDARS reports the
"24 h response rate" of temporal signals (same source and the same inference)."""

SCAN_CONFIRM_PVALUE = 0.05
"""Monte Carlo p-value at or below which the space-time scan confirms an alert (conventional 5 %)."""

LEVEL_ORDER: dict[AlertLevel, int] = {level: i for i, level in enumerate(AlertLevel)}

OPEN_STATUSES = frozenset({AlertStatus.signal, AlertStatus.verifying})
CLOSED_STATUSES = frozenset({AlertStatus.confirmed, AlertStatus.dismissed})

# The verification workflow: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[AlertStatus], AlertStatus]] = {
    "verify": (frozenset({AlertStatus.signal}), AlertStatus.verifying),
    "confirm": (frozenset({AlertStatus.verifying}), AlertStatus.confirmed),
    "dismiss": (frozenset({AlertStatus.signal, AlertStatus.verifying}), AlertStatus.dismissed),
}


class TransitionRefusedError(ValueError):
    """The action is not possible from the alert's current status; the message says why."""

    def __init__(self, message: str | Message) -> None:
        self.text = as_message(message)
        super().__init__(str(self.text))


def next_status(current: AlertStatus, action: str) -> AlertStatus:
    """The status an action leads to, or TransitionRefusedError when the workflow does not allow it."""
    if action not in TRANSITIONS:
        raise TransitionRefusedError(
            Message(
                "unknown action “{value}”; use one of {actions}", value=action, actions=", ".join(TRANSITIONS)
            )
        )
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise TransitionRefusedError(
            Message(
                "cannot {action} an alert that is {status}; it must be {allowed}",
                action=Message(action, ctx="alert action"),
                status=Message(current.value),
                allowed=[Message(s.value) for s in sorted(allowed, key=lambda s: s.value)],
            )
        )
    return target


def raise_level(level: AlertLevel, steps: int = 1) -> AlertLevel:
    """The colour ``steps`` above ``level``, capped at red."""
    order = list(AlertLevel)
    return order[min(LEVEL_ORDER[level] + steps, len(order) - 1)]


def higher_level(a: AlertLevel, b: AlertLevel) -> AlertLevel:
    return a if LEVEL_ORDER[a] >= LEVEL_ORDER[b] else b


def alert_rank(level: AlertLevel, channels: int, scan_confirmed: bool) -> float:
    """Inbox order: colour first, then how many channels agree, then support from the space-time scan."""
    return LEVEL_ORDER[level] * 100.0 + channels * 10.0 + (5.0 if scan_confirmed else 0.0)


def response_due(start: dt.datetime, hours: int) -> dt.datetime:
    return start + dt.timedelta(hours=hours)


@dataclass(frozen=True)
class ClockState:
    """Where an alert stands against its response clock at a given moment."""

    due_at: dt.datetime
    responded: bool
    overdue: bool
    # Positive: time left; negative: time past the deadline; for answered alerts, the response time.
    seconds: float


def clock_state(
    created_at: dt.datetime, due_at: dt.datetime, responded_at: dt.datetime | None, now: dt.datetime
) -> ClockState:
    due = as_utc(due_at)
    if responded_at is not None:
        taken = (as_utc(responded_at) - as_utc(created_at)).total_seconds()
        return ClockState(due, True, as_utc(responded_at) > due, taken)
    left = (due - as_utc(now)).total_seconds()
    return ClockState(due, False, left < 0, left)


def should_escalate(status: AlertStatus, due_at: dt.datetime, now: dt.datetime, has_parent: bool) -> bool:
    """An alert nobody has answered by its deadline moves up to the parent jurisdiction, if there is one."""
    return status is AlertStatus.signal and as_utc(now) > as_utc(due_at) and has_parent


@dataclass(frozen=True)
class AlertFacts:
    """What the statistics need of one alert."""

    created_at: dt.datetime
    responded_at: dt.datetime | None
    status: AlertStatus
    response_hours: int
    escalations: int = 0


@dataclass(frozen=True)
class ResponseStats:
    """CIDARS-style response figures (Disease Surveillance 2016/2018 reports; ALGORITHMS.md section 1).

    Shares are of all alerts in the period, as the CIDARS reports give "response within 24 h" of all
    signals; response times are of the answered ones. ``None`` where there is nothing to measure.
    """

    alerts: int
    responded: int
    response_rate: float | None
    median_response_hours: float | None
    p25_response_hours: float | None
    p75_response_hours: float | None
    within_2h: float | None
    within_24h: float | None
    within_deadline: float | None
    overdue_open: int
    escalated: int
    verifying: int
    confirmed: int
    dismissed: int
    confirmed_rate: float | None


def _quantile(values: Sequence[float], q: float) -> float:
    # Linear interpolation between order statistics (R's type 7, as in the CIDARS papers' software).
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def response_statistics(alerts: Iterable[AlertFacts], now: dt.datetime) -> ResponseStats:
    items = list(alerts)
    n = len(items)
    hours = [
        (as_utc(a.responded_at) - as_utc(a.created_at)).total_seconds() / 3600.0
        for a in items
        if a.responded_at is not None
    ]
    in_time = sum(
        1
        for a in items
        if a.responded_at is not None
        and (as_utc(a.responded_at) - as_utc(a.created_at)) <= dt.timedelta(hours=a.response_hours)
    )
    # Against the first clock: escalation gives the parent a fresh deadline but does not excuse the delay.
    overdue_open = sum(
        1
        for a in items
        if a.responded_at is None
        and as_utc(now) > as_utc(a.created_at) + dt.timedelta(hours=a.response_hours)
    )
    confirmed = sum(1 for a in items if a.status is AlertStatus.confirmed)

    def share(count: int) -> float | None:
        return count / n if n else None

    return ResponseStats(
        alerts=n,
        responded=len(hours),
        response_rate=share(len(hours)),
        median_response_hours=statistics.median(hours) if hours else None,
        p25_response_hours=_quantile(hours, 0.25) if hours else None,
        p75_response_hours=_quantile(hours, 0.75) if hours else None,
        within_2h=share(sum(1 for h in hours if h <= 2.0)),
        within_24h=share(sum(1 for h in hours if h <= 24.0)),
        within_deadline=share(in_time),
        overdue_open=overdue_open,
        escalated=sum(1 for a in items if a.escalations > 0),
        verifying=sum(1 for a in items if a.status is AlertStatus.verifying),
        confirmed=confirmed,
        dismissed=sum(1 for a in items if a.status is AlertStatus.dismissed),
        confirmed_rate=share(confirmed),
    )


def period_start(day: dt.date, weekly: bool) -> dt.date:
    """The date an observation is filed under: the day itself, or the Monday of its ISO week."""
    return day - dt.timedelta(days=day.weekday()) if weekly else day
