"""Time-varying reproduction number Rt by the method of Cori et al. (2013), as R EpiEstim ``estimate_R``.

The method
----------
Cori A, Ferguson NM, Fraser C, Cauchemez S. *A new framework and software to estimate time-varying
reproduction numbers during epidemics.* American Journal of Epidemiology 2013; 178(9): 1505-1512,
doi:10.1093/aje/kwt133. Its reference implementation is the R package EpiEstim (``estimate_R`` with
methods ``"non_parametric_si"`` and ``"parametric_si"``), whose outputs this module reproduces.

Cases with symptom onset on day ``t`` are Poisson with mean ``R_t * Λ_t``, where the *overall
infectivity* ``Λ_t = Σ_{s=1}^{t-1} I_{t-s} w_s`` weighs everyone who fell ill before ``t`` (local and
imported alike) by the serial-interval distribution ``w`` (``w_0 = 0``). Assuming ``R`` constant over a
window of days ``[t_start, t_end]`` and a gamma prior with shape ``a`` and scale ``b`` (EpiEstim's
default: mean 5, sd 5, so ``a = 1``, ``b = 5``), the posterior of ``R`` on that window is gamma with

* shape ``a + Σ_{t_start..t_end} I_local(t)``: only *locally* acquired cases count as infected by the
  local epidemic; imported cases infect others (they are in ``Λ``) but were not infected here;
* scale ``1 / (1/b + Σ_{t_start..t_end} Λ_t)``.

What EpiEstim does, and this module with it
-------------------------------------------
* Days are 1-based in ``t_start``/``t_end``, as EpiEstim prints them; the first day can never be in
  a window (it has no infectivity), so ``t_start >= 2``.
* All cases of day 1 are treated as imported. Since windows start on day 2 this changes nothing
  in the estimate; it only explains EpiEstim's ``I_local`` column.
* Default windows slide by one day with width ``N = 7``: ``t_start = 2..T-N+1``,
  ``t_end = t_start + N - 1``.
* Parametric serial interval: ``w_k`` for ``k = 0..T-1`` is the gamma distribution with the given
  mean and sd, offset by one day and discretised as in EpiEstim's ``discr_si`` (Web Appendix 11 of
  the paper); the vector is then padded with one zero to length ``T + 1``. A non-parametric
  ``si_distr`` shorter than ``T + 1`` is padded with zeros likewise.
* ``si_distr[0]`` must be 0, entries non-negative and the sum within 0.01 of 1 (EpiEstim's
  ``check_si_distr`` tolerance).
* A window whose ``t_end`` is not after the serial interval's mean is dropped (EpiEstim reports
  ``NA`` there and removes the row), because too few generations have elapsed.
* The posterior summaries are the gamma mean ``a*b``, sd ``sqrt(a)*b`` and the quantiles
  0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975.
* A window whose posterior coefficient of variation exceeds ``cv_posterior`` (0.3) has too few cases
  for an estimate: EpiEstim warns and still prints it; here :meth:`RtEstimate.usable` says which
  windows pass, so that callers show no number where there is only the prior.

Vectorised: ``local`` and ``imported`` may carry leading axes (e.g. one row per jurisdiction); time is
the last axis and every row shares the serial interval and the windows, which is how the dashboard
computes Rt for every jurisdiction at once. The infectivity summed over each window is one matrix
product (a days × windows matrix built from the cumulative serial interval), case counts per window
come from cumulative sums, and gamma quantiles are computed once per distinct posterior shape, which
makes thousands of series cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special, stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Largest window case count looked up in a dense table when inverting the gamma cdf (memory bound).
_MAX_DIRECT_COUNT: Final[int] = 10_000_000

# Prior mean of R, dimensionless (EpiEstim make_config default mean_prior = 5; Cori et al. 2013): high
# and vague on purpose, so that an estimate below 1 is driven by the data.
DEFAULT_MEAN_PRIOR: Final[float] = 5.0
# Prior standard deviation of R, dimensionless (EpiEstim make_config default std_prior = 5).
DEFAULT_STD_PRIOR: Final[float] = 5.0
# Width of the sliding estimation window, days (EpiEstim default: weekly windows).
DEFAULT_WINDOW_DAYS: Final[int] = 7
# Largest posterior coefficient of variation (sd / mean) of R for which a window's estimate is usable,
# dimensionless: EpiEstim's cv_posterior (CV.Posterior in EstimateR), default 0.3, the method of Cori et
# al. (2013, Am J Epidemiol 178:1505). EpiEstim make_config: "the more incident cases are observed over a
# time window, the smallest the posterior coefficient of variation ... a warning will be produced if the
# incidence within one of the time windows considered is too low to get this CV". The posterior is
# gamma, so its CV is 1 / sqrt(shape): with the default prior (shape 1) a window needs 11 locally
# acquired cases; a window with none returns the prior itself, mean 5 and sd 5, which says nothing.
MAX_POSTERIOR_CV: Final[float] = 0.3
# Largest allowed |sum(si_distr) - 1|, probability (EpiEstim check_si_distr).
SI_DISTR_SUM_TOLERANCE: Final[float] = 0.01
# Posterior quantiles reported, probabilities (EpiEstim estimate_R output columns).
QUANTILE_LEVELS: Final[tuple[float, ...]] = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)
# Column names exactly as EpiEstim's ``estimate_R(...)$R`` prints them, in its order.
EPIESTIM_COLUMNS: Final[tuple[str, ...]] = (
    "t_start",
    "t_end",
    "Mean(R)",
    "Std(R)",
    "Quantile.0.025(R)",
    "Quantile.0.05(R)",
    "Quantile.0.25(R)",
    "Median(R)",
    "Quantile.0.75(R)",
    "Quantile.0.95(R)",
    "Quantile.0.975(R)",
)


class RtInputError(ValueError):
    """Incidence, serial interval or windows are unusable; the message says which and why."""


@dataclass(frozen=True)
class RtEstimate:
    """Posterior of R on each window, for one series or for every row of a stack of series.

    ``t_start``/``t_end`` are 1-based days, shape ``(n_windows,)``, shared by all rows. ``shape`` and
    ``scale`` are the posterior gamma parameters and ``mean``/``std`` its moments, shape
    ``(..., n_windows)``; ``quantiles`` has one more trailing axis, aligned with ``QUANTILE_LEVELS``.
    ``si_distr`` is the serial interval actually used (padded), ``si_mean``/``si_std`` its moments.
    """

    method: str
    t_start: IntArray
    t_end: IntArray
    shape: FloatArray
    scale: FloatArray
    mean: FloatArray
    std: FloatArray
    quantiles: FloatArray
    si_distr: FloatArray
    si_mean: float
    si_std: float

    def quantile(self, level: float) -> FloatArray:
        """Posterior quantile at one of ``QUANTILE_LEVELS``."""
        if level not in QUANTILE_LEVELS:
            raise KeyError(f"quantile level {level} is not one of {QUANTILE_LEVELS}")
        return self.quantiles[..., QUANTILE_LEVELS.index(level)]

    @property
    def cv(self) -> FloatArray:
        """Posterior coefficient of variation (sd / mean) on each window: ``1 / sqrt(shape)``."""
        return np.asarray(1.0 / np.sqrt(self.shape), dtype=np.float64)

    def usable(self, max_cv: float = MAX_POSTERIOR_CV) -> npt.NDArray[np.bool_]:
        """Windows whose posterior is narrow enough to report (CV at most ``max_cv``, EpiEstim's test)."""
        return np.asarray(self.cv <= max_cv, dtype=np.bool_)

    def epiestim_columns(self) -> dict[str, FloatArray | IntArray]:
        """The estimate as EpiEstim's table: column name -> values (one row per window)."""
        values: list[FloatArray | IntArray] = [self.t_start, self.t_end, self.mean, self.std]
        values += [self.quantiles[..., i] for i in range(len(QUANTILE_LEVELS))]
        return dict(zip(EPIESTIM_COLUMNS, values, strict=True))


def min_cases_for_cv(
    max_cv: float = MAX_POSTERIOR_CV,
    mean_prior: float = DEFAULT_MEAN_PRIOR,
    std_prior: float = DEFAULT_STD_PRIOR,
) -> int:
    """Fewest locally acquired cases a window needs for a posterior CV of at most ``max_cv``.

    The posterior shape is the prior's ``(mean/sd)**2`` plus the window's cases and the CV is
    ``1/sqrt(shape)``, so ``ceil(1/max_cv**2 - (mean/sd)**2)``, as EpiEstim computes its minimum.
    """
    if not max_cv > 0:
        raise RtInputError(f"max_cv must be > 0, got {max_cv}")
    # Rounded before the ceiling: 1/0.3**2 is 11.11..., but 1/0.5**2 - 1 must stay exactly 3.
    needed = round(1.0 / max_cv**2 - (mean_prior / std_prior) ** 2, 9)
    return max(0, math.ceil(needed))


def discretised_serial_interval(mean_si: float, std_si: float, n_days: int) -> FloatArray:
    """Probabilities ``w_0..w_{n_days-1}`` of a serial interval of 0, 1, ... days, as EpiEstim ``discr_si``.

    The serial interval is 1 day plus a gamma variable with mean ``mean_si - 1`` and sd ``std_si``,
    and the infector's onset is uniform within its day; ``w_k`` is the chance the infectee's onset
    falls on day ``k`` (closed form of Cori et al. 2013, Web Appendix 11). ``w_0 = 0``.
    """
    if not (np.isfinite(mean_si) and np.isfinite(std_si)):
        raise RtInputError("serial interval mean and sd must be finite numbers")
    if mean_si <= 1:
        raise RtInputError(f"serial interval mean must be > 1 day (it is offset by one day), got {mean_si}")
    if std_si <= 0:
        raise RtInputError(f"serial interval sd must be > 0, got {std_si}")
    if n_days < 1:
        raise RtInputError(f"n_days must be >= 1, got {n_days}")
    shape = ((mean_si - 1.0) / std_si) ** 2
    scale = std_si**2 / (mean_si - 1.0)
    k = np.arange(n_days, dtype=np.float64)

    def cdf(x: FloatArray, a: float) -> FloatArray:
        return np.asarray(stats.gamma.cdf(x, a, scale=scale), dtype=np.float64)

    w = k * cdf(k, shape) + (k - 2) * cdf(k - 2, shape) - 2 * (k - 1) * cdf(k - 1, shape)
    w += shape * scale * (2 * cdf(k - 1, shape + 1) - cdf(k - 2, shape + 1) - cdf(k, shape + 1))
    # Rounding can leave tiny negatives in the far tail; EpiEstim clips them the same way.
    return np.maximum(w, 0.0)


def check_si_distr(si_distr: npt.ArrayLike) -> FloatArray:
    """Validate a non-parametric serial interval as EpiEstim does, and return it as a float array."""
    w = np.asarray(si_distr, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise RtInputError("si_distr must be a non-empty 1-d sequence of probabilities")
    if not np.all(np.isfinite(w)):
        raise RtInputError(f"si_distr has a non-finite value at index {int(np.argmin(np.isfinite(w)))}")
    if w[0] != 0:
        raise RtInputError(f"si_distr[0] (serial interval of 0 days) must be 0, got {w[0]}")
    if np.any(w < 0):
        raise RtInputError(f"si_distr has a negative probability at index {int(np.argmax(w < 0))}")
    total = float(w.sum())
    if abs(total - 1.0) > SI_DISTR_SUM_TOLERANCE:
        raise RtInputError(f"si_distr must sum to 1 (within {SI_DISTR_SUM_TOLERANCE}), sums to {total}")
    return w


def sliding_windows(n_days: int, window: int = DEFAULT_WINDOW_DAYS) -> tuple[IntArray, IntArray]:
    """EpiEstim's default windows: ``t_start = 2..n_days-window+1``, ``t_end = t_start + window - 1``."""
    if window < 1:
        raise RtInputError(f"window must be >= 1 day, got {window}")
    if n_days - window + 1 < 2:
        raise RtInputError(f"{n_days} days are too few for a {window}-day window starting on day 2")
    t_start = np.arange(2, n_days - window + 2, dtype=np.int64)
    return t_start, t_start + (window - 1)


def overall_infectivity(incidence: npt.ArrayLike, si_distr: npt.ArrayLike) -> FloatArray:
    """``Λ_t = Σ_{s=1}^{t-1} I_{t-s} w_s`` along the last axis; day 1 (index 0) is ``NaN`` as in EpiEstim."""
    total = np.asarray(incidence, dtype=np.float64)
    w = np.asarray(si_distr, dtype=np.float64)
    lam = total @ _infectivity_matrix(w, total.shape[-1])
    lam[..., 0] = np.nan
    return lam


def estimate_r(
    local: npt.ArrayLike,
    imported: npt.ArrayLike | None = None,
    *,
    si_distr: npt.ArrayLike | None = None,
    mean_si: float | None = None,
    std_si: float | None = None,
    t_start: npt.ArrayLike | None = None,
    t_end: npt.ArrayLike | None = None,
    window: int = DEFAULT_WINDOW_DAYS,
    mean_prior: float = DEFAULT_MEAN_PRIOR,
    std_prior: float = DEFAULT_STD_PRIOR,
) -> RtEstimate:
    """Estimate Rt on windows of days, as EpiEstim ``estimate_R`` with a known serial interval.

    ``local`` holds daily counts of locally acquired cases (or all cases, when nothing is known about
    importation) and ``imported`` those of imported cases, time on the last axis. Give either
    ``si_distr`` (method ``non_parametric_si``) or ``mean_si`` and ``std_si`` in days (method
    ``parametric_si``). Without ``t_start``/``t_end`` (1-based days) the windows slide by one day with
    width ``window``.
    """
    local_arr = _counts("local", local)
    imported_arr = np.zeros_like(local_arr) if imported is None else _counts("imported", imported)
    if imported_arr.shape != local_arr.shape:
        raise RtInputError(f"imported has shape {imported_arr.shape}, local has {local_arr.shape}")
    n_days = local_arr.shape[-1]
    if n_days < 2:
        raise RtInputError("at least 2 days of incidence are needed")
    if not (mean_prior > 0 and std_prior > 0):
        raise RtInputError("mean_prior and std_prior must be > 0")

    if si_distr is not None:
        if mean_si is not None or std_si is not None:
            raise RtInputError("give either si_distr or mean_si and std_si, not both")
        method = "non_parametric_si"
        w = check_si_distr(si_distr)
    elif mean_si is not None and std_si is not None:
        method = "parametric_si"
        w = discretised_serial_interval(mean_si, std_si, n_days)
    else:
        raise RtInputError("give either si_distr or both mean_si and std_si")
    if w.size < n_days + 1:
        w = np.concatenate([w, np.zeros(n_days + 1 - w.size)])
    lags = np.arange(w.size, dtype=np.float64)
    si_mean = float(np.sum(w * lags))
    si_std = float(np.sqrt(np.sum(w * lags**2) - si_mean**2))

    starts, ends = _windows(n_days, window, t_start, t_end)
    keep = ends > si_mean
    starts, ends = starts[keep], ends[keep]

    # Day 1 is not in any window (t_start >= 2), so EpiEstim's "day-1 cases are imported" rule never
    # reaches the numerator; only the total enters the infectivity.
    cumulative_local = np.concatenate([np.zeros((*local_arr.shape[:-1], 1)), np.cumsum(local_arr, -1)], -1)
    local_sum = cumulative_local[..., ends] - cumulative_local[..., starts - 1]
    total = local_arr + imported_arr
    infectivity_sum = total @ _window_infectivity_matrix(w, n_days, starts, ends)

    prior_shape = (mean_prior / std_prior) ** 2
    prior_scale = std_prior**2 / mean_prior
    shape = prior_shape + local_sum
    scale = 1.0 / (1.0 / prior_scale + infectivity_sum)
    return RtEstimate(
        method=method,
        t_start=starts,
        t_end=ends,
        shape=shape,
        scale=scale,
        mean=shape * scale,
        std=np.sqrt(shape) * scale,
        quantiles=_gamma_quantiles(prior_shape, local_sum, scale),
        si_distr=w,
        si_mean=si_mean,
        si_std=si_std,
    )


def _counts(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        raise RtInputError(f"{name} must have a time axis")
    if not np.all(np.isfinite(arr)):
        raise RtInputError(f"{name} has a missing or non-finite count")
    if np.any(arr < 0):
        raise RtInputError(f"{name} has a negative count")
    return arr


def _windows(
    n_days: int, window: int, t_start: npt.ArrayLike | None, t_end: npt.ArrayLike | None
) -> tuple[IntArray, IntArray]:
    if t_start is None and t_end is None:
        return sliding_windows(n_days, window)
    if t_start is None or t_end is None:
        raise RtInputError("give both t_start and t_end, or neither")
    starts_f = np.atleast_1d(np.asarray(t_start, dtype=np.float64))
    ends_f = np.atleast_1d(np.asarray(t_end, dtype=np.float64))
    if starts_f.ndim != 1 or starts_f.shape != ends_f.shape:
        raise RtInputError("t_start and t_end must be 1-d and of the same length")
    if np.any(starts_f % 1 != 0) or np.any(ends_f % 1 != 0):
        raise RtInputError("t_start and t_end must be whole days")
    starts, ends = starts_f.astype(np.int64), ends_f.astype(np.int64)
    if np.any(starts > ends):
        raise RtInputError("every t_start must be <= its t_end")
    if np.any(starts < 2) or np.any(ends > n_days):
        raise RtInputError(f"windows must lie within days 2..{n_days} (1-based)")
    return starts, ends


def _infectivity_matrix(w: FloatArray, n_days: int) -> FloatArray:
    """``M[s, t] = w[t - s]`` for ``t > s``, so that ``incidence @ M`` is the infectivity on each day."""
    lag = np.arange(n_days)[None, :] - np.arange(n_days)[:, None]
    padded = np.zeros(n_days, dtype=np.float64)
    usable = min(n_days, w.size)
    padded[:usable] = w[:usable]
    return np.where(lag > 0, padded[np.clip(lag, 0, n_days - 1)], 0.0)


def _window_infectivity_matrix(w: FloatArray, n_days: int, starts: IntArray, ends: IntArray) -> FloatArray:
    """``K[s, i] = Σ_{t in window i} w[t - s]``, so that ``incidence @ K`` sums ``Λ`` over each window.

    Built from the cumulative serial interval in O(days × windows), instead of multiplying the
    day-by-day infectivity matrix into the windows, which would cost O(days² × windows).
    """
    cumulative = np.concatenate([[0.0], np.cumsum(w[:n_days])])
    source = np.arange(n_days)[:, None]
    # Window i covers lags (t_start - 1 - s) .. (t_end - 1 - s) from source day s (0-based days).
    last_lag = np.clip(ends[None, :] - 1 - source, -1, n_days - 1)
    lag_before_first = np.clip(starts[None, :] - 2 - source, -1, n_days - 1)
    return np.asarray(cumulative[last_lag + 1] - cumulative[lag_before_first + 1], dtype=np.float64)


def _gamma_quantiles(prior_shape: float, cases: FloatArray, scale: FloatArray) -> FloatArray:
    """Quantiles of gamma(prior_shape + cases, scale) at ``QUANTILE_LEVELS``, on a new trailing axis."""
    # Across thousands of series and windows the case counts take few distinct values: invert the
    # gamma cdf once per distinct shape. Whole counts are indexed directly, avoiding a sort.
    levels = np.asarray(QUANTILE_LEVELS, dtype=np.float64)
    whole = cases.size > 0 and bool(np.all(cases == np.rint(cases))) and cases.max() <= _MAX_DIRECT_COUNT
    if whole:
        counts = np.rint(cases).astype(np.int64)
        present = np.zeros(int(counts.max()) + 1, dtype=np.bool_)
        present[counts] = True
        distinct_counts = np.flatnonzero(present)
        position = (np.cumsum(present) - 1)[counts]
        distinct = prior_shape + distinct_counts.astype(np.float64)
    else:
        distinct, position = np.unique(prior_shape + cases, return_inverse=True)
    standard = np.asarray(special.gammaincinv(distinct[:, None], levels[None, :]), dtype=np.float64)
    return np.asarray(standard[position.reshape(cases.shape)] * scale[..., None], dtype=np.float64)
