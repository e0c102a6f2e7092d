"""Nowcast of the epidemic curve by onset day: the recent days, not yet fully reported, corrected for
the reporting delay, with an interval; as R ``surveillance::nowcast`` with ``method = "bayes.notrunc.bnb"``.

The method
----------
Höhle M, an der Heiden M. *Bayesian nowcasting during the STEC O104:H4 outbreak in Germany, 2011.*
Biometrics 2014; 70(4): 993-1002, doi:10.1111/biom.12194. Its implementation is ``nowcast`` in the R
package surveillance; the closed-form variant ``bayes.notrunc.bnb`` (no sampling) is the one reproduced
here, so the numbers match R exactly for the same line list.

Days are whole numbers ``0..T`` from the first onset day considered (``T`` is "now"). A case with onset
on day ``t`` reported ``x`` days later is in cell ``n[t, x]`` of the reporting triangle when it is
reported by now (``t + x <= T``). Delays beyond ``D`` days are counted as ``D`` (R warns and does the
same). The delay distribution ``p_0..p_D`` has a Dirichlet prior with every parameter ``kappa`` (R's
``gd.prior.kappa``, default 0.1) and, over the days ``max(0, T - m)..T - x`` for each delay ``x`` (R's
moving window ``m``, default all days), the posterior Dirichlet ``kappa + n_x`` where ``n_x`` is the
number of cases seen with delay ``x``. The estimated delay distribution is the posterior mean.

For onset day ``t`` with ``N_t`` cases reported by now and ``T - t < D``, the cases still to come are
beta-negative-binomial with ``N_t + 1`` successes, ``a = Σ_{x <= T-t} (kappa + n_x)`` and
``b = Σ_{x > T-t} (kappa + n_x)`` (R's ``dbnb``; ``scipy.stats.betanbinom``); the nowcast is ``N_t`` plus
them. Older days (``T - t >= D``) are complete: the nowcast is what was reported. The point estimate is
the posterior median, the interval its ``alpha/2`` and ``1 - alpha/2`` quantiles, each taken as R takes
them: the smallest count whose cumulative probability *exceeds* the level, over a bounded support
(``max_missing``; R's ``N.tInf.max``), a bound an upper limit then reaches when the tail is too heavy.

The reported counts ``N_t`` are an input and are returned unchanged beside the nowcast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import stats

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Longest reporting delay modelled, days (R surveillance::nowcast default D = 15).
DEFAULT_MAX_DELAY: Final[int] = 15
# Dirichlet prior parameter of each delay, dimensionless (R nowcast control gd.prior.kappa default 0.1).
DEFAULT_KAPPA: Final[float] = 0.1
# One minus the interval's level, probability (R nowcast control alpha default 0.05: a 95 % interval).
DEFAULT_ALPHA: Final[float] = 0.05


# Largest number of not-yet-reported cases of one day considered, cases (R's N.tInf.max, default 300,
# bounds the whole count the same way; larger here so that a big outbreak's day is not cut).
DEFAULT_MAX_MISSING: Final[int] = 20_000


class NowcastError(ValueError):
    """The line list or the settings cannot be used; the message says why."""


@dataclass(frozen=True)
class Nowcast:
    """Per onset day ``0..T``: cases reported by now, the nowcast median and its interval.

    ``delay_cdf[x]`` is the estimated probability that a case is reported within ``x`` days.
    """

    reported: IntArray
    median: IntArray
    lower: IntArray
    upper: IntArray
    delay_cdf: FloatArray
    max_delay: int
    alpha: float

    @property
    def corrected(self) -> npt.NDArray[np.bool_]:
        """Days the nowcast is about (still within the longest delay of now)."""
        n = self.reported.size
        return np.asarray(np.arange(n) > n - 1 - self.max_delay, dtype=np.bool_)


def _quantiles(dist: Any, levels: tuple[float, ...], max_missing: int) -> list[int]:
    # R sums the probabilities over a bounded support (N.tInf.max) and takes the smallest count whose
    # cumulative probability *exceeds* each level. Bounded the same way, because with few cases seen at
    # short delays the tail is heavy (a Dirichlet parameter below 1): a level not reached within the
    # bound reads as the bound, an open "at least".
    cumulative = np.cumsum(dist.pmf(np.arange(max_missing + 1)))
    found = np.searchsorted(cumulative, np.asarray(levels, dtype=np.float64), side="right")
    return [int(k) for k in np.minimum(found, max_missing)]


def reporting_triangle(onset: IntArray, delay: IntArray, now: int, max_delay: int) -> IntArray:
    """``n[t, x]``: cases with onset day ``t`` (``0..now``) reported ``x`` days later (delays above
    ``max_delay`` counted as ``max_delay``), for the cases reported by ``now``."""
    kept = (onset >= 0) & (onset <= now) & (delay >= 0) & (onset + delay <= now)
    cells = np.zeros((now + 1, max_delay + 1), dtype=np.int64)
    np.add.at(cells, (onset[kept], np.minimum(delay[kept], max_delay)), 1)
    return cells


def nowcast(
    onset: npt.ArrayLike,
    report: npt.ArrayLike,
    now: int,
    *,
    max_delay: int = DEFAULT_MAX_DELAY,
    window: int | None = None,
    kappa: float = DEFAULT_KAPPA,
    alpha: float = DEFAULT_ALPHA,
    max_missing: int = DEFAULT_MAX_MISSING,
) -> Nowcast:
    """Nowcast of the cases by onset day ``0..now`` from each case's onset and report day (whole days,
    day 0 the first onset day considered; cases with an onset outside ``0..now`` are left out, a report
    after ``now`` is not known yet). ``window`` is R's ``m``: the days the delays are learnt from."""
    onset_days = np.asarray(onset, dtype=np.int64).ravel()
    report_days = np.asarray(report, dtype=np.int64).ravel()
    if onset_days.shape != report_days.shape:
        raise NowcastError("onset and report must have one day per case")
    if max_delay < 1:
        raise NowcastError(f"the longest delay must be at least 1 day, got {max_delay}")
    if max_delay > now:
        raise NowcastError(f"{now + 1} days are too few to learn delays of up to {max_delay} days")
    if not kappa > 0:
        raise NowcastError(f"kappa must be positive, got {kappa}")
    if not 0 < alpha < 1:
        raise NowcastError(f"alpha must lie between 0 and 1, got {alpha}")
    m = now if window is None else window
    if m < 1:
        raise NowcastError(f"the window must be at least 1 day, got {m}")
    delay = report_days - onset_days
    if np.any(delay[(onset_days >= 0) & (onset_days <= now) & (report_days <= now)] < 0):
        raise NowcastError("a case is reported before its onset")
    cells = reporting_triangle(onset_days, delay, now, max_delay)
    seen = np.zeros(max_delay + 1, dtype=np.float64)
    for x in range(max_delay + 1):
        seen[x] = cells[max(0, now - m) : now - x + 1, x].sum()
    posterior = kappa + seen
    delay_cdf = np.cumsum(posterior) / posterior.sum()
    reported = cells.sum(axis=1)
    median = reported.copy()
    lower = reported.copy()
    upper = reported.copy()
    cumulative = np.cumsum(posterior)
    total = float(posterior.sum())
    for t in range(max(0, now - max_delay + 1), now + 1):
        within = float(cumulative[now - t])
        # Cases still to come: beta-negative-binomial (R dbnb(k, n, alpha, beta) is scipy's
        # betanbinom(n, a=alpha, b=beta)).
        missing = stats.betanbinom(int(reported[t]) + 1, within, total - within)
        low, mid, high = _quantiles(missing, (alpha / 2, 0.5, 1 - alpha / 2), max_missing)
        median[t] += mid
        lower[t] += low
        upper[t] += high
    return Nowcast(
        reported=reported,
        median=median,
        lower=lower,
        upper=upper,
        delay_cdf=np.asarray(delay_cdf, dtype=np.float64),
        max_delay=max_delay,
        alpha=alpha,
    )
