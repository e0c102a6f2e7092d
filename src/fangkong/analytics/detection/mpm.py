"""CIDARS moving percentile method (MPM), the temporal model of China's automated alert system.

Sources and their limits: reference/surveillance/ALGORITHMS.md section 1. Published facts: the
current count is compared with a percentile of historical counts of the same season (Anhui pilot:
previous 3 years, threshold P50; BMC Public Health 2017: a "5 week x 5 year" moving window, P40-P95
tuned per disease). **Unverified** (from memory, not confirmed in a source): the national defaults of
a 7-day observation period rolled daily, a baseline of the same 7-day period and the adjacent periods
in each of the previous 3 years, and P50. Every one of these is therefore a parameter.

For a time point ``t`` (0-based): the **observation period** is the ``window`` time points ending at
``t``; its sum is ``score``. The **baseline** holds, for each of the ``b`` previous years ``i`` and
each shift ``j = -w..w``, the sum of the ``window`` time points ending at ``t - i*freq + j*window``,
so ``b * (2w + 1)`` values (15 with the defaults). ``threshold`` is their ``percentile``-th
percentile (linear interpolation, R's default type 7) and ``expected`` their median. The point alarms
when the observation-period sum **exceeds** the threshold (strictly; with many zero counts ``>=``
would alarm on empty weeks; also unverified).

``threshold``, ``expected`` and ``score`` are on the scale of a ``window``-long sum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection._common import (
    DAYS_PER_YEAR,
    RangeSpec,
    as_counts,
    build_result,
    check_int,
    check_positive,
    resolve_range,
)
from fangkong.analytics.detection.base import DetectionResult, DetectorParameterError

MPM_WINDOW_DAYS = 7
"""days in an observation period for daily data; CIDARS national setting [memory/unverified]."""

MPM_WINDOW_WEEKS = 1
"""weeks in an observation period for weekly data (one week = the 7-day period above)."""

MPM_YEARS_BACK = 3
"""years of history; Anhui pilot (Liu & Deng 2006) and CIDARS [memory/unverified for national]."""

MPM_ADJACENT_PERIODS = 2
"""observation periods on each side of the same period in each past year; gives 5 x 3 = 15 values
(the "5 week x 5 year" window of BMC Public Health 2017 has 2 on each side) [unverified for CIDARS]."""

MPM_PERCENTILE = 50.0
"""percent; alert threshold P50 (Anhui pilot 2006; CIDARS default [memory/unverified], some diseases P80)."""

MPM_FREQ = DAYS_PER_YEAR
"""time points a year; CIDARS runs on daily county counts."""


def mpm(
    observed: npt.ArrayLike,
    *,
    window: int | None = None,
    b: int = MPM_YEARS_BACK,
    w: int = MPM_ADJACENT_PERIODS,
    percentile: float = MPM_PERCENTILE,
    freq: int = MPM_FREQ,
    range: RangeSpec = None,
) -> DetectionResult:
    """Moving percentile method over ``range`` (0-based; default: every point with a full baseline).

    ``window`` defaults to 7 time points for daily data and 1 for weekly data (``freq = 52``).
    """
    y = as_counts(observed)
    freq = check_int("freq", freq, 1)
    size = (
        check_int("window", window, 1)
        if window is not None
        else (MPM_WINDOW_WEEKS if freq < DAYS_PER_YEAR else MPM_WINDOW_DAYS)
    )
    b = check_int("b", b, 1)
    w = check_int("w", w, 0)
    pct = check_positive("percentile", percentile, allow_zero=True)
    if pct > 100.0:
        raise DetectorParameterError(f"percentile: must lie in 0..100, got {pct}")
    if w * size >= freq:
        raise DetectorParameterError(f"w: {w} periods of {size} reach a whole year ({freq}) away")
    years = np.arange(1, b + 1)
    shifts = np.arange(-w, w + 1) * size
    period_ends = (-years[:, None] * freq + shifts[None, :]).ravel()
    first = int(-period_ends.min()) + size - 1
    idx = resolve_range(range, y.shape[0], first)
    # cum[i] = y[0] + ... + y[i-1], so the period ending at e sums to cum[e + 1] - cum[e + 1 - size].
    cum = np.concatenate([[0.0], np.cumsum(y)])
    ends = idx[:, None] + period_ends[None, :]
    baseline = cum[ends + 1] - cum[ends + 1 - size]
    current = cum[idx + 1] - cum[idx + 1 - size]
    threshold = np.percentile(baseline, pct, axis=1)
    return build_result(
        "mpm",
        y,
        idx,
        expected=np.median(baseline, axis=1),
        threshold=threshold,
        score=current,
        alarm=current > threshold,
        params={"window": size, "b": b, "w": w, "percentile": pct, "freq": freq},
    )
