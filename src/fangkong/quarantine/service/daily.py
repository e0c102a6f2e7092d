"""The day's quarantine figures of a subtree, for the response capability's daily closure (日清日结).

A system read without a principal (the caller limits the subtree with ``jpath``). People placed and
released are counted by the person's own jurisdiction (a county's people, wherever their site is), as
stays are scoped; occupancy and capacity by the site's, since beds belong to the place that runs them.
Both are people: occupants at the end of the day against the beds of rooms in service in open sites.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.core.clock import day_bounds
from fangkong.core.scope import under
from fangkong.quarantine.models import QuarantineRoom, QuarantineSite, RoomState, SiteStatus, Stay, StayState


def quarantine_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """People placed and released on ``day`` under ``jpath``; people in the subtree's sites at the end
    of the day and the beds those sites have in service now."""
    start, end = day_bounds(day)
    placed = session.scalar(
        select(func.count()).where(under(Stay.jpath, jpath), Stay.placed_at >= start, Stay.placed_at < end)
    )
    released = session.scalar(
        select(func.count()).where(
            under(Stay.jpath, jpath),
            Stay.state == StayState.released,
            Stay.ended_at >= start,
            Stay.ended_at < end,
        )
    )
    occupied = session.scalar(
        select(func.count())
        .select_from(Stay)
        .join(QuarantineSite, QuarantineSite.id == Stay.site_id)
        .where(
            under(QuarantineSite.jpath, jpath),
            Stay.placed_at < end,
            or_(Stay.ended_at.is_(None), Stay.ended_at >= end),
        )
    )
    capacity = session.scalar(
        select(func.coalesce(func.sum(QuarantineRoom.beds), 0))
        .select_from(QuarantineRoom)
        .join(QuarantineSite, QuarantineSite.id == QuarantineRoom.site_id)
        .where(
            under(QuarantineSite.jpath, jpath),
            QuarantineSite.status == SiteStatus.open,
            QuarantineRoom.state != RoomState.out_of_service,
        )
    )
    return {
        "placed": int(placed or 0),
        "released": int(released or 0),
        "occupied": int(occupied or 0),
        "capacity": int(capacity or 0),
    }
