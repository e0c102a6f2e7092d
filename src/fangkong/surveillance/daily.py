"""The day's alert figures of a subtree, for the response capability's daily closure (日清日结).

A system read without a principal (the caller limits the subtree with ``jpath``, the area the alert is
about). "Answered" is the first response that stopped the clock (verification started, confirmed or
dismissed), as in the CIDARS response figures (``rules.response_statistics``); "in time" is measured
against the first clock, since escalation gives the parent a fresh deadline but does not excuse the delay.
"""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_utc, day_bounds
from fangkong.core.scope import under
from fangkong.surveillance.models import Alert


def alert_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int | float | None]:
    """Alerts under ``jpath``: raised on ``day``, answered on it (and of them in time, with the median
    hours from raising to answer), and open (unanswered) at the end of the day."""
    start, end = day_bounds(day)
    raised = 0
    still_open = 0
    hours: list[float] = []
    in_time = 0
    rows = session.execute(
        select(Alert.created_at, Alert.responded_at, Alert.response_hours).where(
            under(Alert.jpath, jpath),
            Alert.created_at < end,
            or_(Alert.responded_at.is_(None), Alert.responded_at >= start),
        )
    )
    for created_at, responded_at, response_hours in rows:
        created = as_utc(created_at)
        if created >= start:
            raised += 1
        if responded_at is None or as_utc(responded_at) >= end:
            still_open += 1
            continue
        taken = (as_utc(responded_at) - created).total_seconds() / 3600.0
        hours.append(taken)
        if taken <= response_hours:
            in_time += 1
    return {
        "raised": raised,
        "answered": len(hours),
        "answered_in_time": in_time,
        "open": still_open,
        "median_response_hours": round(statistics.median(hours), 2) if hours else None,
    }
