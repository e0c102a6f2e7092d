"""Which past time points the Farrington detectors learn from, and in which seasonal block each lies.

Two layouts, both read from R ``surveillance`` 1.20.3:

* ``algo.farrington`` (1996): for each of the ``b`` previous years, the ``2w+1`` time points centred on
  the same time of year. Without dates the centre is ``k - freq*i``; with dates it is the same calendar
  day ``i`` years back moved to the nearest same weekday (weekly data), as ``refvalIdxByDate`` does.
  Reference points before the start of the series are dropped, as R does with a warning.
* ``farringtonFlexible`` (Noufaily et al. 2013): the same windows form level ``noPeriods`` of a seasonal
  factor, and with ``noPeriods > 1`` the weeks between two windows are cut into ``noPeriods - 1``
  blocks of nearly equal length (the remainder goes to the first blocks), as R's ``blocks()`` does.
  The ``pastWeeksNotIncluded`` weeks before the current one, and the current one, are left out.

All positions here are 0-based indices into the series; ``k`` is the time point being judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection.base import DetectorParameterError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

WEEKLY = 52
"""Frequency (time points a year) for which reference dates snap to the same weekday; R ``epochStr``."""
DAILY = 365
"""Frequency (time points a year) of daily data; R ``epochStr = "1 day"``."""
DAYS_PER_WEEK = 7
"""Days in a week; used to snap reference dates to the weekday of the judged week."""


def as_day_numbers(dates: npt.ArrayLike) -> IntArray:
    """Dates (ISO strings, ``datetime.date`` or ``datetime64``) as whole days since 1970-01-01."""
    arr = np.asarray(dates)
    try:
        days = arr.astype("datetime64[D]").astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise DetectorParameterError(f"dates: cannot read as calendar dates ({exc})") from exc
    if days.ndim != 1:
        raise DetectorParameterError(f"dates must be 1-d, got shape {days.shape}")
    if days.shape[0] > 1 and np.any(np.diff(days) <= 0):
        raise DetectorParameterError("dates must be strictly increasing")
    return days


def years_back(day: int, years: int) -> int:
    """The same calendar day ``years`` years earlier, as R ``seq(date, by = "-1 year")`` gives it.

    R steps the year field and normalises, so 29 February becomes 1 March in a common year.
    """
    d = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
    moved = dt.date(d.year - years, d.month, 1) + dt.timedelta(days=d.day - 1)
    return (moved - dt.date(1970, 1, 1)).days


def nearest_same_weekday(day: int, target_day: int) -> int:
    """Move ``day`` by at most three days to the weekday of ``target_day`` (the nearer way round)."""
    forward = (target_day - day) % DAYS_PER_WEEK
    return day + forward if forward <= DAYS_PER_WEEK // 2 else day + forward - DAYS_PER_WEEK


def _positions(day_numbers: IntArray, wanted: IntArray) -> IntArray:
    """Index of each wanted day in the sorted ``day_numbers``; -1 where it is absent."""
    pos = np.searchsorted(day_numbers, wanted)
    pos = np.minimum(pos, day_numbers.shape[0] - 1)
    found = day_numbers[pos] == wanted
    return np.where(found, pos, -1).astype(np.int64)


def classic_reference_rows(
    k: int, n: int, b: int, w: int, freq: int, day_numbers: IntArray | None
) -> IntArray:
    """Reference positions of ``algo.farrington`` for time point ``k``, oldest first; missing ones dropped."""
    if day_numbers is None:
        centres = k - freq * np.arange(b, 0, -1, dtype=np.int64)
        rows = (centres[:, None] + np.arange(-w, w + 1, dtype=np.int64)[None, :]).ravel()
        return rows[(rows >= 0) & (rows < n)]
    if freq not in (WEEKLY, DAILY):
        raise DetectorParameterError(
            f"freq: dates are supported for weekly (52) or daily (365) data, not {freq}"
        )
    t0 = int(day_numbers[k])
    step = DAYS_PER_WEEK if freq == WEEKLY else 1
    wanted: list[int] = []
    for i in range(b, 0, -1):
        centre = years_back(t0, i)
        for m in range(-w, w + 1):
            day = centre + m * step
            wanted.append(nearest_same_weekday(day, t0) if freq == WEEKLY else day)
    pos = _positions(day_numbers, np.asarray(wanted, dtype=np.int64))
    return pos[pos >= 0]


def flexible_reference_points(
    k: int, b: int, freq: int, day_numbers: IntArray | None, w: int = 0
) -> IntArray:
    """Positions of the judged point and of the same time of year 1..b years back (most recent first).

    Raises :class:`DetectorParameterError` if any of them, or the oldest window of half-width ``w``,
    lies outside the series (R stops with "Some reference time points did not exist", or fails on
    negative indices).
    """
    if day_numbers is None:
        points = k - freq * np.arange(0, b + 1, dtype=np.int64)
    else:
        t0 = int(day_numbers[k])
        wanted = [years_back(t0, i) for i in range(b + 1)]
        if freq == WEEKLY:
            wanted = [nearest_same_weekday(d, t0) for d in wanted]
        points = _positions(day_numbers, np.asarray(wanted, dtype=np.int64))
    # R indexes the oldest window as (ref - w):(ref + w), 1-based: a start at index 0 is silently
    # dropped (one week short), a negative start is an error.
    if np.any(points < 0) or points[-1] - w < -1:
        raise DetectorParameterError(
            f"range: time point {k} needs {b} years of history before it (some reference time points "
            "do not exist); decrease b or start the range later"
        )
    return points


def flexible_blocks(
    k: int, n: int, b: int, w: int, no_periods: int, past_weeks_not_included: int, ref_points: IntArray
) -> tuple[IntArray, IntArray]:
    """Rows used to judge ``k`` and their seasonal level (0-based; level ``noPeriods - 1`` = the windows).

    ``ref_points`` comes from :func:`flexible_reference_points` (``ref_points[0] == k``).
    """
    factor = np.full(n, -1, dtype=np.int64)
    windows_level = no_periods - 1
    factor[max(k - w, 0) : k + 1] = windows_level
    for i in range(1, b + 1):
        ref = int(ref_points[i])
        factor[max(ref - w, 0) : ref + w + 1] = windows_level
        if no_periods != 1:
            later = int(ref_points[i - 1])
            gap = later - 2 * w - 1 - ref
            if gap < no_periods - 1:
                raise DetectorParameterError(
                    f"noPeriods: {no_periods} blocks do not fit in the {gap} time points between two "
                    "reference windows; lower noPeriods or w"
                )
            size, rest = divmod(gap, no_periods - 1)
            lengths = np.full(no_periods - 1, size, dtype=np.int64)
            lengths[:rest] += 1
            start = ref + w + 1
            for j, length in enumerate(lengths):
                factor[start : start + length] = j
                start += int(length)
    factor[max(k - past_weeks_not_included, 0) : k + 1] = -1
    rows = np.flatnonzero(factor >= 0).astype(np.int64)
    return rows, factor[rows]


@dataclass(frozen=True)
class Design:
    """Rows, times and levels of every judged time point, stacked (CSR-like).

    The rows of time point ``judged[i]`` are ``rows[start[i]:start[i+1]]``; ``time`` is measured from the
    judged point (so the prediction is at time 0) in time steps; ``levels[i]`` is the number of seasonal
    levels and ``pred_level[i]`` the level of the judged point.
    """

    judged: IntArray
    start: IntArray
    rows: IntArray
    time: FloatArray
    level: IntArray
    levels: IntArray
    pred_level: IntArray

    @property
    def max_rows(self) -> int:
        return int(np.max(np.diff(self.start))) if self.judged.shape[0] else 0


def _time_from_judged(rows: IntArray, k: int, day_numbers: IntArray | None) -> FloatArray:
    if day_numbers is None or day_numbers.shape[0] < 2:
        return (rows - k).astype(np.float64)
    step = float(day_numbers[1] - day_numbers[0])
    out: FloatArray = (day_numbers[rows] - day_numbers[k]).astype(np.float64) / step
    return out


def _stack(judged: IntArray, parts: list[tuple[IntArray, FloatArray, IntArray]], levels: int) -> Design:
    counts = np.array([p[0].shape[0] for p in parts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    empty_i = np.zeros(0, dtype=np.int64)
    return Design(
        judged=judged,
        start=start,
        rows=np.concatenate([p[0] for p in parts]) if parts else empty_i,
        time=np.concatenate([p[1] for p in parts]) if parts else np.zeros(0),
        level=np.concatenate([p[2] for p in parts]) if parts else empty_i,
        levels=np.full(judged.shape[0], levels, dtype=np.int64),
        pred_level=np.full(judged.shape[0], levels - 1, dtype=np.int64),
    )


def classic_design(
    judged: IntArray, n: int, b: int, w: int, freq: int, day_numbers: IntArray | None
) -> Design:
    """Design of ``algo.farrington``: one level, time in index steps (R's ``wtime`` are indices)."""
    parts = []
    for k in judged:
        rows = classic_reference_rows(int(k), n, b, w, freq, day_numbers)
        parts.append((rows, (rows - k).astype(np.float64), np.zeros(rows.shape[0], dtype=np.int64)))
    return _stack(judged, parts, 1)


def flexible_design(
    judged: IntArray,
    n: int,
    b: int,
    w: int,
    freq: int,
    no_periods: int,
    past_weeks_not_included: int,
    day_numbers: IntArray | None,
) -> Design:
    """Design of ``farringtonFlexible``: ``noPeriods`` levels, time in steps of the first date difference.

    Time points without ``b`` years of history are left out (not judged); R stops with an error there.
    """
    parts = []
    usable = []
    for k in judged:
        try:
            points = flexible_reference_points(int(k), b, freq, day_numbers, w)
        except DetectorParameterError:
            continue
        rows, level = flexible_blocks(int(k), n, b, w, no_periods, past_weeks_not_included, points)
        parts.append((rows, _time_from_judged(rows, int(k), day_numbers), level))
        usable.append(int(k))
    return _stack(np.asarray(usable, dtype=np.int64), parts, no_periods)
