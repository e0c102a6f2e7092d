"""The testing part of a drill: samplers take the tests the plans order, the lab reports them.

When the drill plays the teams (autopilot), each drill day has a sampling round at
:data:`SAMPLING_HOUR` (every open test order of the sandbox due by that day is sampled in a single tube)
and a lab report :data:`DEFAULT_LAB_DELAY_HOURS` later (each sampled tube gets its result: positive for
a person the drill has already reported as a case, negative otherwise). Results go through the testing
use cases, so a negative last test lets a quarantine release go ahead and the score's "test results
within the lab deadline" measures the hours from sampling to result against the protocol's lab deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.events import EventBus
from fangkong.modeling.drill_outbreak import ScheduledEvent

# Drill hour of the day the samplers go round (09:00, modelling choice).
SAMPLING_HOUR: Final[float] = 9.0
# Drill hours from sampling to the lab's report (modelling choice: within the 12-hour lab deadline,
# protocols.md §7 epi.lab_turnaround, S54).
DEFAULT_LAB_DELAY_HOURS: Final[float] = 6.0
# Orders read per page when sampling (a sandbox has at most a few thousand people).
PAGE: Final[int] = 200


def schedule(days: int) -> list[ScheduledEvent]:
    """A sampling round and a lab report on each drill day."""
    events: list[ScheduledEvent] = []
    for day in range(days):
        events.append(ScheduledEvent("sampling", day * 24.0 + SAMPLING_HOUR, {"day": day}))
        events.append(
            ScheduledEvent("lab", day * 24.0 + SAMPLING_HOUR + DEFAULT_LAB_DELAY_HOURS, {"day": day})
        )
    return events


def sampling_round(session: Session, principal: Principal, day: dt.date, drill_id: int) -> int:
    """Sample every open order of the sandbox due by ``day``; returns how many were sampled."""
    from fangkong.testing.service import orders

    orders.sync_orders(session, principal.jpath)
    due: list[int] = []
    page = 1
    while True:
        missed = orders.overdue(session, principal, on=day, page=page, size=PAGE)
        due.extend(o.id for o in missed.items)
        if page * PAGE >= missed.total:
            break
        page += 1
    page = 1
    while True:
        today = orders.worklist(session, principal, day, page=page, size=PAGE)
        due.extend(o.id for o in today.items if o.state.value == "open")
        if page * PAGE >= today.total:
            break
        page += 1
    sampled = 0
    for order_id in dict.fromkeys(due):
        orders.record_sample(session, principal, order_id, f"D{drill_id}-{order_id:07d}")
        sampled += 1
    return sampled


def lab_round(session: Session, bus: EventBus, principal: Principal, reported_cases: set[int]) -> int:
    """The lab reports every sampled tube of the sandbox without a result; returns how many."""
    from fangkong.testing.service import TestResult, orders, results

    now = utcnow()
    reported = 0
    for timing in orders.turnarounds(session, principal.jpath):
        if timing.resulted_at is not None:
            continue
        if timing.tube_barcode is None:
            continue
        positive = timing.person_id in reported_cases
        line = results.ResultLine(
            row=reported + 1,
            barcode=timing.tube_barcode,
            result=TestResult.positive if positive else TestResult.negative,
            ct_values={"ORF1ab": 28.0, "N": 27.0} if positive else {},
            tested_at=now,
            version=None,
        )
        results.apply_result(session, line, origin="drill lab", bus=bus)
        reported += 1
    return reported
