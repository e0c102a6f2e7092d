"""Crow-Gardner confidence limits for a Poisson mean, computed (the RKI detector's lookup table).

R ``surveillance`` ships the RKI system's table ``CIdata`` (mean 0..20, limits to 3 decimals). Its
values are the 95 % limits of Crow & Gardner (1959), "Confidence intervals for the expectation of a
Poisson variable", Biometrika 46:441-453, which this module derives instead of copying:

* For a Poisson mean ``mu`` the acceptance region is a run of counts ``a..b`` of the **fewest**
  counts whose probability reaches the confidence level; among equally short runs the one lying
  **furthest up** is taken (this tie rule is what makes the limits monotone, and reproduces the
  published table).
* The upper limit for an observed count ``x`` is the largest ``mu`` whose acceptance region still
  contains ``x``; it is found by bisection on ``mu`` (the region's lower end never decreases as
  ``mu`` grows) and rounded to 3 decimals like the published table.

Against R's ``CIdata`` the computed upper limits agree exactly on 20 of the 21 rows; for ``x = 11``
the limit is 19.05051..., which rounds to 19.051 where the table prints 19.050. Counts are whole
numbers, so the difference never changes an RKI alarm.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

from fangkong.analytics.detection.base import FloatArray

CROW_GARDNER_CONFIDENCE = 0.95
"""confidence level of the RKI table (R surveillance ``CIdata``; Crow & Gardner 1959)."""

TABLE_DECIMALS = 3
"""decimals of the published table, to which the computed limits are rounded."""

BISECTION_STEPS = 45
"""halvings of the bracketing interval (SCAN_STEP / 2**45 < 1e-13 expected counts)."""

SCAN_STEP = 0.5
"""step, in expected counts, of the coarse scan that brackets each limit before bisection; safe
because the acceptance region's lower end never decreases as mu grows."""


def acceptance_region(mu: float, confidence: float = CROW_GARDNER_CONFIDENCE) -> tuple[int, int]:
    """The shortest, then highest, run of counts ``(a, b)`` with ``P(a <= X <= b | mu) >= confidence``."""
    top = int(mu + 20.0 * np.sqrt(mu) + 40.0)
    # cdf_shift[i] = P(X <= i - 1), so P(a <= X <= a + L - 1) = cdf_shift[a + L] - cdf_shift[a].
    cdf_shift = stats.poisson.cdf(np.arange(-1, top + 1), mu)
    lengths = np.arange(1, top + 1)[:, None]
    starts = np.arange(top + 1)[None, :]
    ends = np.minimum(starts + lengths, top + 1)
    coverage = np.where(starts + lengths <= top + 1, cdf_shift[ends] - cdf_shift[starts], -1.0)
    enough = coverage >= confidence
    shortest = int(np.argmax(enough.any(axis=1)))
    low = int(np.flatnonzero(enough[shortest])[-1])
    return low, low + shortest


def crow_gardner_upper(x: int, confidence: float = CROW_GARDNER_CONFIDENCE) -> float:
    """Largest Poisson mean whose Crow-Gardner acceptance region contains the count ``x`` (unrounded)."""
    mu = max(float(x), SCAN_STEP)
    while acceptance_region(mu, confidence)[0] <= x:
        mu += SCAN_STEP
    low, high = mu - SCAN_STEP, mu
    for _ in np.arange(BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if acceptance_region(mid, confidence)[0] <= x:
            low = mid
        else:
            high = mid
    return low


@cache
def upper_limit_table(max_count: int = 20, confidence: float = CROW_GARDNER_CONFIDENCE) -> FloatArray:
    """Upper limits for counts ``0..max_count``, rounded like the RKI table; computed once per process."""
    limits = [round(crow_gardner_upper(int(x), confidence), TABLE_DECIMALS) for x in np.arange(max_count + 1)]
    table = np.array(limits, dtype=np.float64)
    table.setflags(write=False)
    return table
