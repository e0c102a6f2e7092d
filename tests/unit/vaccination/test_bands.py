"""Age bands: whole years completed, 29 February births, the birth-date bounds SQL bands by, the stored
sums and the coverage arithmetic (days counted, rates, dropout, roll-up)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.vaccination.rules import coverage
from fangkong.vaccination.rules.bands import (
    ALL_BANDS,
    BANDS,
    age_on,
    band_cutoffs,
    band_of,
    born_on_or_before,
    sums_of,
)

D = dt.date


@pytest.mark.parametrize(
    ("birth", "on", "age", "band"),
    [
        (D(2020, 1, 1), D(2022, 12, 31), 2, None),  # under 3: not offered
        (D(2020, 1, 1), D(2023, 1, 1), 3, "3-17"),  # the third birthday itself
        (D(2004, 12, 1), D(2022, 11, 30), 17, "3-17"),
        (D(2004, 12, 1), D(2022, 12, 1), 18, "18-59"),
        (D(1962, 11, 29), D(2022, 11, 28), 59, "18-59"),
        (D(1962, 11, 28), D(2022, 11, 28), 60, "60-69"),
        (D(1953, 1, 1), D(2022, 12, 31), 69, "60-69"),
        (D(1952, 12, 31), D(2022, 12, 31), 70, "70-79"),
        (D(1942, 12, 31), D(2022, 12, 30), 79, "70-79"),
        (D(1942, 12, 30), D(2022, 12, 30), 80, "80+"),
        (D(1920, 6, 1), D(2022, 6, 1), 102, "80+"),
        # 29 February: a year older on 1 March of a common year, on 29 February of a leap year.
        (D(1960, 2, 29), D(2020, 2, 28), 59, "18-59"),
        (D(1960, 2, 29), D(2020, 2, 29), 60, "60-69"),
        (D(1960, 2, 29), D(2021, 2, 28), 60, "60-69"),
        (D(1962, 2, 28), D(2022, 2, 28), 60, "60-69"),
        (D(1962, 3, 1), D(2022, 2, 28), 59, "18-59"),
    ],
)
def test_age_and_band(birth: dt.date, on: dt.date, age: int, band: str | None) -> None:
    assert age_on(birth, on) == age
    assert band_of(birth, on) == band


@pytest.mark.parametrize(
    "on", [D(2022, 11, 28), D(2024, 2, 29), D(2023, 3, 1), D(2023, 2, 28), D(2022, 12, 31)]
)
@pytest.mark.parametrize("age", [3, 18, 60, 70, 80])
def test_birth_date_bound_agrees_with_age_on_every_day_around_it(on: dt.date, age: int) -> None:
    bound = born_on_or_before(on, age)
    for offset in range(-400, 400):
        birth = bound + dt.timedelta(days=offset)
        assert (age_on(birth, on) >= age) == (birth <= bound), (birth, on, age)


def test_cutoffs_band_people_as_band_of_does() -> None:
    on = D(2024, 2, 29)
    start = D(1900, 1, 1)
    for offset in range(0, (on - start).days, 7):
        birth = start + dt.timedelta(days=offset)
        by_bound = next((b for b, bound in band_cutoffs(on) if birth <= bound), None)
        expected = band_of(birth, on)
        assert by_bound == expected or (expected is None and birth > born_on_or_before(on, 3)), birth


def test_bands_and_sums() -> None:
    assert BANDS == ("3-17", "18-59", "60-69", "70-79", "80+")
    assert ALL_BANDS[-2:] == ("60+", "all")
    assert sums_of("80+") == ("60+", "all")
    assert sums_of("18-59") == ("all",)


def test_days_counted_are_week_ends_then_the_day() -> None:
    monday = D(2022, 11, 28)
    days = coverage.days_counted(monday, 3)
    assert days == [D(2022, 11, 13), D(2022, 11, 20), D(2022, 11, 27), monday]
    assert all(coverage.is_week_end(d) for d in days[:-1])
    sunday = D(2022, 11, 27)
    assert coverage.days_counted(sunday, 2) == [D(2022, 11, 13), D(2022, 11, 20), sunday]


def test_rates_and_dropout_never_divide_by_zero() -> None:
    assert coverage.rate(0, 0) is None
    assert coverage.rate(3, 4) == 0.75
    assert coverage.dropout(0, 0) is None
    assert coverage.dropout(10, 8) == pytest.approx(0.2)
    counts = coverage.Counts(10, (9, 8, 5, 1))
    assert counts.rate("booster") == 0.5
    assert counts.dropout == pytest.approx(1 / 9)


def test_roll_up_adds_a_place_to_every_jurisdiction_above_it_and_to_the_sums() -> None:
    day = D(2022, 11, 27)
    groups = [
        (day, "/33/3301/a/", "80+", 4, 3, 2, 1, 0),
        (day, "/33/3301/b/", "80+", 6, 6, 6, 6, 6),
        (day, "/33/3301/b/", "18-59", 10, 9, 9, 5, 0),
        (day, "/~/33/3301/x/", "80+", 5, 5, 5, 5, 5),  # a drill's sandbox: counted only in itself
    ]
    paths = ["/33/", "/33/3301/", "/33/3301/a/", "/33/3301/b/", "/~/33/3301/x/"]
    totals = coverage.roll_up(groups, paths)
    assert totals[("/33/", day, "80+")] == [10, 9, 8, 7, 6]
    assert totals[("/33/", day, "60+")] == [10, 9, 8, 7, 6]
    assert totals[("/33/", day, "all")] == [20, 18, 17, 12, 6]
    assert totals[("/33/3301/a/", day, "all")] == [4, 3, 2, 1, 0]
    assert ("/33/3301/a/", day, "18-59") not in totals
    assert totals[("/~/33/3301/x/", day, "all")] == [5, 5, 5, 5, 5]
    assert ("/~/", day, "all") not in totals


@pytest.mark.parametrize(
    ("value", "cls"), [(None, "none"), (0.95, "good"), (0.9, "good"), (0.85, "fair"), (0.5, "low")]
)
def test_tile_class(value: float | None, cls: str) -> None:
    assert coverage.tile_class(value) == cls
