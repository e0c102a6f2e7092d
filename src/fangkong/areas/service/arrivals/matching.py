"""Matching a trip's origin against the areas as they stood on the day of departure.

The origin county (in this deployment's tree or the national table), a unit the traveller names matched
to an area by name, each designated area's level spans (:func:`area_histories`), and the category an
exposure gives (``areas.rules.categories``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    AreaState,
    ArrivalCategory,
    RiskArea,
    RiskAreaChange,
)
from fangkong.areas.rules.categories import (
    AreaHistory,
    Exposure,
    arrival_exposure,
    protocol_category,
    spans_from_steps,
)
from fangkong.core import clock
from fangkong.core.divisions import national_tree
from fangkong.core.models import Jurisdiction, Level


@cache
def _national_counties() -> dict[str, str]:
    """County-level codes of the national table (a city without counties, 东莞市, counts as one)."""
    tree = national_tree()
    with_counties = {d.parent_code for d in tree if d.level == "county"}
    return {
        d.code: d.name
        for d in tree
        if d.level == "county" or (d.level == "city" and d.code not in with_counties)
    }


def _origin_county(session: Session, code: str) -> tuple[int | None, str] | None:
    """(jurisdiction id if the county is in this deployment's tree, its name), None if no county."""
    node = session.scalar(
        select(Jurisdiction).where(Jurisdiction.code == code, Jurisdiction.is_sandbox.is_(False))
    )
    if node is not None:
        return (node.id, node.name) if node.level == Level.county else None
    name = _national_counties().get(code)
    return (None, name) if name is not None else None


def unit_key(name: str) -> str:
    """The form unit names are compared in: no space, folded width and case (翠苑小区 3幢 = 翠苑小区3幢)."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


# --- areas as they stood ---------------------------------------------------------------------------------


def area_histories(session: Session, county_ids: Iterable[int]) -> dict[int, tuple[RiskArea, AreaHistory]]:
    """Every designated area (in force or since lifted) of these counties with its level spans, by id."""
    ids = sorted(set(county_ids))
    if not ids:
        return {}
    areas = list(
        session.scalars(
            select(RiskArea).where(
                RiskArea.county_id.in_(ids),
                RiskArea.state.in_((AreaState.in_force, AreaState.lifted)),
                RiskArea.designated_at.is_not(None),
            )
        )
    )
    if not areas:
        return {}
    codes = dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.code).where(Jurisdiction.id.in_(ids))).all()
    )
    steps: dict[int, list[tuple[dt.datetime, str | None, str]]] = {a.id: [] for a in areas}
    for area_id, at, from_level, to_level in session.execute(
        select(RiskAreaChange.area_id, RiskAreaChange.at, RiskAreaChange.from_level, RiskAreaChange.to_level)
        .where(RiskAreaChange.area_id.in_(list(steps)), RiskAreaChange.to_level.is_not(None))
        .order_by(RiskAreaChange.at, RiskAreaChange.id)
    ):
        if to_level is not None:
            steps[area_id].append((at, from_level.value if from_level is not None else None, to_level.value))
    found: dict[int, tuple[RiskArea, AreaHistory]] = {}
    for area in areas:
        assert area.designated_at is not None
        designated = clock.as_utc(area.designated_at)
        # The timeline's steps from designation on (a proposal's own step comes before it).
        taken = [(clock.local_day(at), to) for at, _, to in steps[area.id] if clock.as_utc(at) >= designated]
        designated_on = clock.local_day(designated)
        if not taken or taken[0][0] != designated_on:
            first = steps[area.id]
            later = [f for at, f, _ in first if clock.as_utc(at) >= designated and f is not None]
            # An area written without a designation step: it held what its first later step left, or
            # its level now.
            taken.insert(0, (designated_on, later[0] if later else area.level.value))
        lifted_on = clock.local_day(area.lifted_at) if area.lifted_at is not None else None
        history = AreaHistory(
            area.id, codes.get(area.county_id, ""), spans_from_steps(taken, lifted_on=lifted_on)
        )
        found[area.id] = (area, history)
    return found


def _exposure(
    departed_on: dt.date, named: int | None, histories: Mapping[int, tuple[RiskArea, AreaHistory]]
) -> Exposure:
    named_area = histories[named][1] if named is not None and named in histories else None
    return arrival_exposure(
        departed_on, named_area=named_area, county_areas=[h for _, h in histories.values()]
    )


def _match_unit(histories: Mapping[int, tuple[RiskArea, AreaHistory]], unit: str) -> int | None:
    if not unit:
        return None
    key = unit_key(unit)
    matches = sorted(area.id for area, _ in histories.values() if unit_key(area.name) == key)
    return matches[-1] if matches else None


def _category(exposure: Exposure) -> ArrivalCategory:
    name = protocol_category(exposure)
    return ArrivalCategory(name) if name is not None else ArrivalCategory.no_risk
