"""Arrival categorisation, table-driven: each area level and departure day, look-back, lifting."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.areas.rules.categories import (
    TRAVEL_HISTORY_DAYS,
    AreaHistory,
    LevelSpan,
    area_level_for,
    arrival_exposure,
    exposure_of_category,
    is_upgrade,
    protocol_category,
    spans_from_steps,
)
from fangkong.protocol.loader import load_builtin

D = dt.date(2022, 9, 10)  # the day the area in the tables was designated


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def area(*steps: tuple[int, str], lifted: int | None = None, area_id: int = 1) -> AreaHistory:
    spans = spans_from_steps(
        [(day(o), level) for o, level in steps], lifted_on=day(lifted) if lifted else None
    )
    return AreaHistory(area_id, "430405", spans)


# A high area designated on D, downgraded to medium on D+7, lifted to low on D+10 (cn-9's clock).
HIGH_THEN_MEDIUM = area((0, "high"), (7, "medium"), (10, "low"))


@pytest.mark.parametrize(
    ("history", "departed", "expected"),
    [
        # in force on the day of departure
        (area((0, "high")), 0, "high"),
        (area((0, "high")), 3, "high"),
        (area((0, "medium")), 2, "medium"),
        # designated after departure but within the 7-day window: looked back
        (area((0, "high")), -1, "high"),
        (area((0, "high")), -TRAVEL_HISTORY_DAYS, "high"),
        (area((0, "medium")), -5, "medium"),
        # designated more than the window after departure: not a traveller from it
        (area((0, "high")), -TRAVEL_HISTORY_DAYS - 1, "none"),
        # the level that held on the day, or the worse one on a day it changed
        (HIGH_THEN_MEDIUM, 6, "high"),
        (HIGH_THEN_MEDIUM, 7, "high"),
        (HIGH_THEN_MEDIUM, 8, "medium"),
        (HIGH_THEN_MEDIUM, 10, "medium"),
        # lifted before departure
        (HIGH_THEN_MEDIUM, 11, "none"),
        (area((0, "high"), lifted=5), 6, "none"),
        (area((0, "high"), lifted=5), 5, "high"),
        # a medium area raised to high within the window after departure: the worse level
        (area((0, "medium"), (3, "high")), 1, "high"),
    ],
)
def test_area_level_for_each_level_and_departure_day(
    history: AreaHistory, departed: int, expected: str
) -> None:
    assert area_level_for(history, day(departed)) == expected


@pytest.mark.parametrize(
    ("named", "others", "departed", "expected"),
    [
        # the named unit decides when it held a level
        (area((0, "high")), [], 2, "high"),
        (area((0, "medium")), [], 2, "medium"),
        # the named unit lifted, the county still has another area: the rest of the county is low
        (area((0, "high"), lifted=3), [area((0, "medium"), area_id=2)], 5, "low"),
        # no unit named, the county has an area then: low
        (None, [area((0, "high"))], 2, "low"),
        (None, [area((0, "high"))], -3, "low"),
        # no unit named, the county's areas lifted before departure or designated long after: none
        (None, [area((0, "high"), lifted=3)], 4, "none"),
        (None, [area((0, "high"))], -10, "none"),
        (None, [], 0, "none"),
    ],
)
def test_arrival_exposure(
    named: AreaHistory | None, others: list[AreaHistory], departed: int, expected: str
) -> None:
    county = [*others, *([named] if named is not None else [])]
    assert arrival_exposure(day(departed), named_area=named, county_areas=county) == expected


def test_spans_from_steps_ignore_repeats_and_close_at_low() -> None:
    spans = spans_from_steps([(day(0), "high"), (day(2), "high"), (day(7), "medium"), (day(10), "low")])
    assert spans == (LevelSpan("high", day(0), day(7)), LevelSpan("medium", day(7), day(10)))
    assert spans_from_steps([(day(0), "medium")], lifted_on=day(4)) == (LevelSpan("medium", day(0), day(4)),)
    assert spans_from_steps([]) == ()


def test_categories_are_the_protocols() -> None:
    cn9 = load_builtin("cn-9")
    for exposure in ("high", "medium", "low"):
        category = protocol_category(exposure)  # type: ignore[arg-type]
        assert category in cn9.categories
        assert exposure_of_category(category or "") == exposure
    assert protocol_category("none") is None
    assert exposure_of_category("no_risk") == "none"
    cn9_20 = load_builtin("cn-9-20")
    assert protocol_category("high") in cn9_20.categories


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [("none", "low", True), ("low", "high", True), ("medium", "high", True), ("high", "medium", False),
     ("low", "low", False), ("medium", "none", False)],
)  # fmt: skip
def test_categories_only_move_up(current: str, new: str, expected: bool) -> None:
    assert is_upgrade(current, new) is expected  # type: ignore[arg-type]
