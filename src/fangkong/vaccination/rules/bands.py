"""Age bands of the coverage tables and the age arithmetic behind them.

The bands are those of the 2022 reports (3–17, 18–59, 60–69, 70–79, 80 and over; issue 16, protocols.md
§8 vax.elderly_plan: 80+ fastest, 60–79 still rising); nobody under 3 is offered a dose (vax.cn10), so
nobody under 3 is in a denominator. Two sums are kept beside them: ``60+`` (the headline figure of the
elderly plan) and ``all``.

Age is whole years completed: someone born on 29 February turns a year older on 1 March in a common
year. :func:`born_on_or_before` turns "aged at least N on day D" into a birth-date bound, so that SQL can
band millions of rows with plain comparisons and agree with :func:`age_on` to the day.
"""

from __future__ import annotations

import calendar
import datetime as dt

# (band, lowest age, highest age or None): youngest first.
BAND_LIMITS: tuple[tuple[str, int, int | None], ...] = (
    ("3-17", 3, 17),
    ("18-59", 18, 59),
    ("60-69", 60, 69),
    ("70-79", 70, 79),
    ("80+", 80, None),
)
BANDS: tuple[str, ...] = tuple(b for b, _low, _high in BAND_LIMITS)
# Youngest age offered a dose (vax.cn10: everyone aged 3 and over without a contraindication).
MIN_AGE = 3
ELDERLY = "60+"
ALL = "all"
ELDERLY_BANDS: tuple[str, ...] = ("60-69", "70-79", "80+")
# Every band a coverage count is stored for: the five, then the sums.
ALL_BANDS: tuple[str, ...] = (*BANDS, ELDERLY, ALL)


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Whole years completed on ``on``."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def band_of(birth_date: dt.date, on: dt.date) -> str | None:
    """The band of someone born on ``birth_date``, on ``on``; None under 3 (not offered a dose)."""
    age = age_on(birth_date, on)
    for band, low, high in BAND_LIMITS:
        if age >= low and (high is None or age <= high):
            return band
    return None


def sums_of(band: str) -> tuple[str, ...]:
    """The stored sums a band's people also count in (``80+`` → ``60+`` and ``all``)."""
    return (ELDERLY, ALL) if band in ELDERLY_BANDS else (ALL,)


def born_on_or_before(on: dt.date, age: int) -> dt.date:
    """The latest birth date of someone aged at least ``age`` on ``on``.

    ``age_on(b, on) >= age`` exactly when ``b <= born_on_or_before(on, age)``: the same month and day
    ``age`` years earlier, or 28 February when ``on`` is 29 February and that year is common.
    """
    year = on.year - age
    return dt.date(year, on.month, min(on.day, calendar.monthrange(year, on.month)[1]))


def band_cutoffs(on: dt.date) -> list[tuple[str, dt.date]]:
    """(band, latest birth date in it) oldest band first: someone is in the first band whose bound
    their birth date does not pass (for a CASE expression over birth dates)."""
    return [(band, born_on_or_before(on, low)) for band, low, _high in reversed(BAND_LIMITS)]
