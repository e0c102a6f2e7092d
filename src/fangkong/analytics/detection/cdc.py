"""The CDC historical-limits method (Stroup et al. 1989), as R ``surveillance::algo.cdc`` 1.20.3.

Definitions and defaults: reference/surveillance/ALGORITHMS.md section 2, "CDC / Stroup 1989".
The method works on **4-week sums**. For each of the ``b`` previous years it takes ``2m + 1``
consecutive 4-week blocks around the same time of year (for ``m = 1``: the blocks ending 4 weeks
before, at, and 4 weeks after ``t - i * freq``), giving ``K = (2m + 1) b`` reference sums. The bound
is ``mean + z * sd * sqrt(1 + 1/K)`` with ``z = qnorm(1 - alpha/2)`` (a prediction interval,
Farrington & Andrews 2003), and the point alarms when the current 4-week sum ``y_{t-3} + .. + y_t``
exceeds it.

So ``threshold`` and ``score`` (the current 4-week sum) are on the 4-week scale, as R's
``upperbound`` is; ``expected`` is the mean reference 4-week sum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from fangkong.analytics.detection._common import (
    RangeSpec,
    as_counts,
    build_result,
    check_int,
    check_probability,
    resolve_range,
)
from fangkong.analytics.detection.base import DetectionResult

CDC_YEARS_BACK = 5
"""years of history; R algo.cdc default ``b = 5`` (Stroup 1989)."""

CDC_BLOCKS_EACH_SIDE = 1
"""4-week blocks on each side of the same period of past years; R algo.cdc default ``m = 1``."""

CDC_ALPHA = 0.025
"""two-sided error rate; R algo.cdc default ``alpha = 0.025`` (z = qnorm(0.9875) = 2.24)."""

CDC_FREQ = 52
"""time points a year; R ``disProg`` default ``freq = 52`` (weekly)."""

BLOCK_WEEKS = 4
"""time points summed into one block ("month"), as Stroup et al. and R algo.cdc."""


def cdc(
    observed: npt.ArrayLike,
    *,
    b: int = CDC_YEARS_BACK,
    m: int = CDC_BLOCKS_EACH_SIDE,
    alpha: float = CDC_ALPHA,
    freq: int = CDC_FREQ,
    range: RangeSpec = None,
) -> DetectionResult:
    """CDC detector over ``range`` (0-based; default: every point with all reference blocks)."""
    y = as_counts(observed)
    b = check_int("b", b, 1)
    m = check_int("m", m, 0)
    alpha = check_probability("alpha", alpha)
    freq = check_int("freq", freq, 1)
    # Block starts relative to the same time of year: -4m-3, -4m+1, ..., 4m-3 (each 4 long).
    block_starts = np.arange(-BLOCK_WEEKS * m - (BLOCK_WEEKS - 1), BLOCK_WEEKS * m + 1, BLOCK_WEEKS)
    years = np.arange(1, b + 1)
    starts = (-years[:, None] * freq + block_starts[None, :]).ravel()
    first = max(int(-starts.min()), BLOCK_WEEKS - 1)
    idx = resolve_range(range, y.shape[0], first)
    # cum[i] = y[0] + ... + y[i-1], so the block y[s .. s+3] sums to cum[s+4] - cum[s].
    cum = np.concatenate([[0.0], np.cumsum(y)])
    block_pos = idx[:, None] + starts[None, :]
    sums = cum[block_pos + BLOCK_WEEKS] - cum[block_pos]
    count = sums.shape[1]
    z = float(special.ndtri(1.0 - alpha / 2.0))
    mean = sums.mean(axis=1)
    upper = mean + z * sums.std(axis=1, ddof=1) * np.sqrt(1.0 + 1.0 / count)
    current = cum[idx + 1] - cum[idx + 1 - BLOCK_WEEKS]
    return build_result(
        "cdc",
        y,
        idx,
        expected=mean,
        threshold=upper,
        score=current,
        alarm=current > upper,
        params={"b": b, "m": m, "alpha": alpha, "freq": freq},
    )
