"""The day's testing figures of a subtree, for the response capability's daily closure (日清日结).

A system read without a principal (the caller limits the subtree with ``jpath``). Test orders are the
plan's tests of people under management: due on the day, sampled on the day (whatever day they were
due), and overdue at the end of the day (due by then, neither sampled nor cancelled). Positives are the
tests that turned positive on the day: ordered tests, and tubes no order stands behind (a campaign's
pools), so a positive ordered test is not counted twice through its tube.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from fangkong.core.clock import day_bounds
from fangkong.core.scope import under
from fangkong.testing.models import OrderState, TestOrder, TestResult, Tube


def testing_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """Orders under ``jpath`` due, sampled and overdue on ``day``; tests that turned positive that day."""
    start, end = day_bounds(day)
    order = TestOrder
    not_cancelled = order.state != OrderState.cancelled
    due = session.scalar(
        select(func.count()).where(under(order.jpath, jpath), order.due_date == day, not_cancelled)
    )
    done = session.scalar(
        select(func.count()).where(
            under(order.jpath, jpath), order.sampled_at >= start, order.sampled_at < end, not_cancelled
        )
    )
    overdue = session.scalar(
        select(func.count()).where(
            under(order.jpath, jpath),
            order.due_date <= day,
            not_cancelled,
            or_(order.sampled_at.is_(None), order.sampled_at >= end),
        )
    )
    ordered_positive = session.scalar(
        select(func.count()).where(
            under(order.jpath, jpath),
            order.result == TestResult.positive,
            order.resulted_at >= start,
            order.resulted_at < end,
        )
    )
    tube_positive = session.scalar(
        select(func.count()).where(
            under(Tube.jpath, jpath),
            Tube.result == TestResult.positive,
            Tube.resulted_at >= start,
            Tube.resulted_at < end,
            ~exists().where(order.tube_barcode == Tube.barcode),
        )
    )
    return {
        "due": int(due or 0),
        "done": int(done or 0),
        "overdue": int(overdue or 0),
        "positive": int(ordered_positive or 0) + int(tube_positive or 0),
    }
