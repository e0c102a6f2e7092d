"""Domain events the areas capability publishes for others (testing, response tasks).

Arrivals are put under management with the core event ``PersonPlacedUnderManagement`` (category from the
arrival's origin, source ``arrival:<id>``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class RiskAreaDesignated(DomainEvent):
    """The command centre approved an area (testing may start a round there, response opens tasks)."""

    area_id: int
    jpath: str
    level: str


@dataclass(frozen=True)
class RiskAreaLifted(DomainEvent):
    """An area went down a level or back to low."""

    area_id: int
    jpath: str
    from_level: str
    to_level: str


@dataclass(frozen=True)
class DoorstepRequested(DomainEvent):
    """A resident of a sealed area asked for help at the door (food, medicine, a medical emergency):
    published by ``areas.service.doorstep.open_request`` when the request is logged. ``kind`` is the
    request kind's value."""

    request_id: int
    jpath: str
    kind: str
    requested_at: dt.datetime
