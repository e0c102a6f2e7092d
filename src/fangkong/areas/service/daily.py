"""The day's risk-area figures of a subtree, for the response capability's daily closure (日清日结).

A system read without a principal (the caller limits the subtree with ``jpath``). An area is in force at
the end of the day when it was designated before then and not lifted by then; its level is the one it
has now (a downgrade keeps the row and changes the level, see the area's timeline).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.areas.models import AreaState, RiskArea, RiskLevel
from fangkong.core.clock import day_bounds
from fangkong.core.scope import under


def area_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """High and medium areas under ``jpath`` in force at the end of ``day``; designated, lifted that day."""
    start, end = day_bounds(day)
    designated_ever = (
        RiskArea.state.in_((AreaState.in_force, AreaState.lifted)),
        under(RiskArea.jpath, jpath),
    )
    levels: dict[RiskLevel, int] = {
        level: int(n)
        for level, n in session.execute(
            select(RiskArea.level, func.count())
            .where(
                *designated_ever,
                RiskArea.designated_at < end,
                or_(RiskArea.lifted_at.is_(None), RiskArea.lifted_at >= end),
            )
            .group_by(RiskArea.level)
        )
    }
    designated = session.scalar(
        select(func.count()).where(
            *designated_ever, RiskArea.designated_at >= start, RiskArea.designated_at < end
        )
    )
    lifted = session.scalar(
        select(func.count()).where(*designated_ever, RiskArea.lifted_at >= start, RiskArea.lifted_at < end)
    )
    return {
        "high": int(levels.get(RiskLevel.high, 0)),
        "medium": int(levels.get(RiskLevel.medium, 0)),
        "designated": int(designated or 0),
        "lifted": int(lifted or 0),
    }
