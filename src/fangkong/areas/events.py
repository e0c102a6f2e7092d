"""Domain events the areas capability publishes for others (testing, response tasks).

Arrivals are put under management with the core event ``PersonPlacedUnderManagement`` (category from the
arrival's origin, source ``arrival:<id>``).
"""

from __future__ import annotations

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
