"""The category of an arrival: the level of the place they left, as it stood when they left (pure).

A traveller's category comes from the risk areas of the county they came from (protocols.md §4
area.travel, §3): from a high area → ``high_risk_area_arrival``, from a medium one →
``medium_risk_area_arrival``, from anywhere else in a county that has any high or medium area (the rest
of the county is low, §4 area.low) → ``low_risk_area_arrival``, and from a county with none → no category.

"As it stood when they left" looks back as well as at the day itself: the history that counts is the
last 7 days (area.travel), so an area designated within that many days after someone left it still
makes them a traveller from it ("7天内有高风险区旅居史": they were there while the infection was). An
area lifted before the day they left does not count. On a day the level changed both levels were in
force for part of it; a traveller who left that day is given the higher one, since they were there
while it held.

An area's history is a list of level spans (``LevelSpan``) built from its timeline by
:func:`spans_from_steps`; only high and medium spans matter here (low means lifted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Exposure = Literal["high", "medium", "low", "none"]

# Days of travel history that make a traveller from an area: "7天内有...旅居史", protocols.md §4
# area.travel and §3 (C, S2, S10). The protocol files model the categories but not this window.
TRAVEL_HISTORY_DAYS = 7

# The protocol's person-category id for each exposure (cn-9 names all three, cn-9-20 high and low).
PROTOCOL_CATEGORY: dict[Exposure, str | None] = {
    "high": "high_risk_area_arrival",
    "medium": "medium_risk_area_arrival",
    "low": "low_risk_area_arrival",
    "none": None,
}
# Worse first when compared: an arrival is only ever moved up this order, never down.
RANK: dict[Exposure, int] = {"none": 0, "low": 1, "medium": 2, "high": 3}
_RISK_LEVELS = frozenset({"high", "medium"})


@dataclass(frozen=True)
class LevelSpan:
    """A level an area held from ``start`` to ``end`` (both local days, inclusive; None: still holds)."""

    level: str
    start: dt.date
    end: dt.date | None = None

    def meets(self, first: dt.date, last: dt.date) -> bool:
        """Whether the span holds on some day between ``first`` and ``last`` (inclusive)."""
        return self.start <= last and (self.end is None or self.end >= first)


@dataclass(frozen=True)
class AreaHistory:
    """One designated area as the categorisation sees it: where it is and the levels it held."""

    area_id: int
    county_code: str
    spans: tuple[LevelSpan, ...]


def spans_from_steps(
    steps: Iterable[tuple[dt.date, str]], *, lifted_on: dt.date | None = None
) -> tuple[LevelSpan, ...]:
    """The level spans of an area from its steps: (local day, level it went to), designation first.

    Each step ends the span before it on the step's own day (both held that day, see the module doc);
    a step to low, or ``lifted_on``, ends the last span. Steps are taken in day order; a step to the
    level already held (a clock reset by a new case) changes nothing.
    """
    spans: list[LevelSpan] = []
    for day, level in sorted(steps, key=lambda step: step[0]):
        if spans and spans[-1].end is None:
            if spans[-1].level == level:
                continue
            spans[-1] = LevelSpan(spans[-1].level, spans[-1].start, day)
        if level in _RISK_LEVELS:
            spans.append(LevelSpan(level, day))
    if lifted_on is not None and spans and spans[-1].end is None:
        spans[-1] = LevelSpan(spans[-1].level, spans[-1].start, lifted_on)
    return tuple(spans)


def area_level_for(
    area: AreaHistory, departed_on: dt.date, *, window_days: int = TRAVEL_HISTORY_DAYS
) -> Exposure:
    """The worst level ``area`` held for someone who left it on ``departed_on``: on that day, or
    designated within ``window_days`` after it (look-back); "none" if it held neither."""
    last = departed_on + dt.timedelta(days=window_days)
    worst: Exposure = "none"
    for span in area.spans:
        if span.level in _RISK_LEVELS and span.meets(departed_on, last):
            level: Exposure = "high" if span.level == "high" else "medium"
            if RANK[level] > RANK[worst]:
                worst = level
    return worst


def arrival_exposure(
    departed_on: dt.date,
    *,
    named_area: AreaHistory | None,
    county_areas: Sequence[AreaHistory],
    window_days: int = TRAVEL_HISTORY_DAYS,
) -> Exposure:
    """The exposure of a traveller who left a county on ``departed_on``.

    ``named_area`` is the risk area they said they left (matched by id or name), ``county_areas`` every
    designated area of their county of origin. The named area's level decides when it held one; else
    the county having any high or medium area then makes them a traveller from a low-risk area.
    """
    if named_area is not None:
        level = area_level_for(named_area, departed_on, window_days=window_days)
        if level != "none":
            return level
    for area in county_areas:
        if area_level_for(area, departed_on, window_days=window_days) != "none":
            return "low"
    return "none"


def protocol_category(exposure: Exposure) -> str | None:
    """The protocol's person-category id for an exposure (None: not a category, no plan)."""
    return PROTOCOL_CATEGORY[exposure]


def exposure_of_category(category: str) -> Exposure:
    """The exposure a stored category stands for (``no_risk`` and anything unknown: none)."""
    for exposure, name in PROTOCOL_CATEGORY.items():
        if name == category:
            return exposure
    return "none"


def is_upgrade(current: Exposure, new: Exposure) -> bool:
    """Whether ``new`` is worse than ``current`` (the only way an arrival's category moves)."""
    return RANK[new] > RANK[current]
