"""Look-back: when an area is designated, arrivals who left its county within the travel-history window
before are categorised again, linked to it when their unit (given by name) is the new area, and moved up
and re-planned when now worse.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.events import RiskAreaDesignated
from fangkong.areas.models import (
    Arrival,
    ArrivalCategory,
    RiskArea,
)
from fangkong.areas.rules.categories import (
    TRAVEL_HISTORY_DAYS,
)
from fangkong.areas.service.arrivals.matching import _category, _exposure, area_histories, unit_key
from fangkong.areas.service.arrivals.registering import _upgrade
from fangkong.core import audit, clock
from fangkong.core.events import (
    DomainEvent,
    bus_of,
)
from fangkong.core.models import Jurisdiction

# --- look-back -------------------------------------------------------------------------------------------


def arrivals_for_designated_area(session: Session, event: DomainEvent) -> None:
    """Handler of ``RiskAreaDesignated``: arrivals who left the area's county within the travel-history
    window before its designation are categorised again (and linked to it when their unit, given by
    name, is this area); those now worse are moved up and re-planned."""
    assert isinstance(event, RiskAreaDesignated)
    area = session.get(RiskArea, event.area_id)
    if area is None or area.designated_at is None:
        return
    county = session.get(Jurisdiction, area.county_id)
    if county is None:
        return
    histories = area_histories(session, [area.county_id])
    since = clock.local_day(area.designated_at) - dt.timedelta(days=TRAVEL_HISTORY_DAYS)
    candidates = list(
        session.scalars(
            select(Arrival)
            .where(Arrival.origin_county_code == county.code, Arrival.departed_on >= since)
            .order_by(Arrival.id)
        )
    )
    area_key = unit_key(area.name)
    moves: list[tuple[Arrival, ArrivalCategory]] = []
    for arrival in candidates:
        if (
            arrival.origin_area_id is None
            and arrival.origin_text
            and unit_key(arrival.origin_text) == area_key
        ):
            arrival.origin_area_id = area.id
        exposure = _exposure(arrival.departed_on, arrival.origin_area_id, histories)
        moves.append((arrival, _category(exposure)))
    moved = _upgrade(session, bus_of(session), moves)
    if moved:
        audit.record(
            session,
            audit.SYSTEM,
            "arrivals.look_back",
            "risk_area",
            area.id,
            jpath=area.jpath,
            detail={"moved": moved, "looked_at": len(candidates)},
        )
