"""Coverage arithmetic, pure: the measures, the days counted, rates, dropout, the roll-up of counts from
the places people live to every jurisdiction above them, and the colour of a tile.

A count is always a numerator with its denominator (the registry's people of the band, alive in the
registry on the day counted): rates are derived on reading and never stored alone, so every published
rate reconciles with the people behind it (issue 16).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fangkong.vaccination.rules.bands import ALL, sums_of

# What a numerator counts, in the order the tables show them: at least one dose, the primary series
# complete, a booster, a second booster (the four figures of the 2022 national reports).
MEASURES: tuple[str, ...] = ("at_least_one", "primary_complete", "booster", "second_booster")
# Week ends counted for the trend besides the day of the refresh.
DEFAULT_WEEKS = 12
# Sunday closes a week (ISO weekday 7), as the weekly reports of 2022 did.
WEEK_END = 7
# Tile colours by the rate of the chosen measure: the 2022 plan has no numeric target
# (vax.elderly_plan), so the steps bracket the national figure for people ≥ 60 with a full series on
# 2022-11-28 (86.42 %, issue 16): at or above 90 % good, 80-90 % fair, below 80 % low.
GOOD_RATE = 0.90
FAIR_RATE = 0.80


@dataclass(frozen=True)
class Counts:
    """One band's denominator and its four numerators (in the order of :data:`MEASURES`)."""

    denominator: int
    numerators: tuple[int, int, int, int]

    def rate(self, measure: str) -> float | None:
        return rate(self.numerators[MEASURES.index(measure)], self.denominator)

    @property
    def dropout(self) -> float | None:
        return dropout(self.numerators[0], self.numerators[1])


def rate(numerator: int, denominator: int) -> float | None:
    """Share of the denominator; None when there is nobody to count (never a division by zero)."""
    return numerator / denominator if denominator else None


def dropout(first: int, complete: int) -> float | None:
    """(started − completed) ÷ started: the share of people who began the series and have not finished
    it (the DHIS2 dropout rate); None when nobody began."""
    return (first - complete) / first if first else None


def days_counted(as_of: dt.date, weeks: int = DEFAULT_WEEKS) -> list[dt.date]:
    """The ``weeks`` Sundays before ``as_of`` and ``as_of`` itself, oldest first (a Sunday ``as_of`` is
    counted once)."""
    last_sunday = as_of - dt.timedelta(days=(as_of.isoweekday() - WEEK_END) % 7 or 7)
    days = [last_sunday - dt.timedelta(weeks=w) for w in reversed(range(weeks))]
    return [*days, as_of]


def is_week_end(day: dt.date) -> bool:
    return day.isoweekday() == WEEK_END


def ancestors(path: str) -> list[str]:
    """``/a/b/c/`` → ``['/a/', '/a/b/', '/a/b/c/']`` (also for a drill's ``/~/...`` paths)."""
    codes = [c for c in path.split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


Key = tuple[str, dt.date, str]  # (jurisdiction path, day counted, band)


def roll_up(
    groups: Iterable[tuple[dt.date, str, str, int, int, int, int, int]], jurisdiction_paths: Iterable[str]
) -> dict[Key, list[int]]:
    """Counts per (jurisdiction, day, band) from counts per (day, place people live, band).

    ``groups`` rows are (day, path, band, denominator, at_least_one, primary_complete, booster,
    second_booster). A place's people count in every jurisdiction whose subtree holds it and in the
    sums of their band (``60+``, ``all``). Each value is [denominator, four numerators].
    """
    known = set(jurisdiction_paths)
    above: dict[str, list[str]] = {}
    totals: dict[Key, list[int]] = {}
    for day, path, band, *values in groups:
        if path not in above:
            above[path] = [p for p in ancestors(path) if p in known]
        for jpath in above[path]:
            for b in (band, *sums_of(band)):
                slot = totals.setdefault((jpath, day, b), [0, 0, 0, 0, 0])
                for i, v in enumerate(values):
                    slot[i] += int(v)
    return totals


def tile_class(value: float | None) -> str:
    """``good``, ``fair``, ``low``, or ``none`` when nobody is counted."""
    if value is None:
        return "none"
    if value >= GOOD_RATE:
        return "good"
    if value >= FAIR_RATE:
        return "fair"
    return "low"


def counts_of(values: Mapping[str, tuple[int, int]]) -> Counts:
    """:class:`Counts` from {measure: (numerator, denominator)} (missing measures count zero)."""
    denominator = max((d for _n, d in values.values()), default=0)
    numbers = tuple(values.get(m, (0, denominator))[0] for m in MEASURES)
    return Counts(denominator, (numbers[0], numbers[1], numbers[2], numbers[3]))


__all__ = ["ALL", "MEASURES", "Counts", "counts_of", "days_counted", "dropout", "rate", "roll_up"]
