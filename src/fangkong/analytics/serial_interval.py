"""The serial interval from infector → infectee pairs: summary, fitted distributions, bootstrap, and the
discretised distribution the Rt estimate takes.

The serial interval of a pair is the infectee's onset day minus the infector's, in whole days. Real
pair data has negative intervals (the infectee fell ill first: pre-symptomatic transmission; Du et al.
2020, Emerg Infect Dis 26:1341, found 12.6 % negative among 468 pairs in China and fitted a normal
distribution for that reason).

Three families are fitted by maximum likelihood with ``scipy.stats``:

* ``normal`` to every pair: it allows negative intervals;
* ``gamma`` and ``lognormal`` (location 0) to the positive part, the pairs with an interval above 0.

The choice is by AIC (``2k - 2 log L``) over *every* pair, so that the three are compared on the same
data. A family on the positive axis gives a pair at 0 days or less a likelihood of 0, so when there is
one, its AIC is infinite and the normal is chosen; gamma and lognormal are still reported (fitted to
the positive part) for the reader to compare.

The interval around the chosen family's mean and sd is a percentile bootstrap: pairs are resampled with
replacement, with the ``numpy.random.Generator`` the caller passes, and the family is fitted again to
each resample.

For Rt (Cori et al. 2013, :mod:`fangkong.analytics.rt`) the chosen distribution is discretised to whole
days by rounding (``w_k = F(k + 1/2) - F(k - 1/2)``) on days 1 and later, and renormalised: the renewal
equation only counts infectors who fell ill on an earlier day, so ``w_0 = 0`` and the share of the
distribution at 0 days or less (``dropped_share``) is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

FloatArray = npt.NDArray[np.float64]

# Fewest pairs for a fitted distribution, pairs: below this a fit (two parameters) says little; the
# summary (mean, sd, negative share) is still given. Assumption of this platform.
MIN_PAIRS_FOR_FIT: Final[int] = 5
# Bootstrap resamples, count (Efron & Tibshirani 1993, ch. 13: about 1000 for percentile intervals).
DEFAULT_BOOTSTRAP: Final[int] = 1000
# Level of the bootstrap interval, probability.
DEFAULT_LEVEL: Final[float] = 0.95
# Tail of the fitted distribution left beyond the last day of the discretised one, probability.
TAIL_MASS: Final[float] = 1e-6
# Longest serial interval kept in the discretised distribution, days.
MAX_SI_DAYS: Final[int] = 60

FAMILIES: Final[tuple[str, ...]] = ("normal", "gamma", "lognormal")


class SerialIntervalError(ValueError):
    """The intervals cannot be used; the message says why."""


@dataclass(frozen=True)
class FamilyFit:
    """One fitted family: scipy's parameters, the distribution's mean and sd, and its AIC over every
    pair (``inf`` when the family cannot describe a pair, see the module notes)."""

    family: str
    params: dict[str, float]
    mean: float
    sd: float
    fitted_pairs: int
    log_likelihood: float
    aic: float

    def frozen(self) -> Any:
        return _frozen(self.family, self.params)


@dataclass(frozen=True)
class SerialInterval:
    """Pooled serial interval of ``pairs`` pairs; ``fits`` empty below ``MIN_PAIRS_FOR_FIT``."""

    pairs: int
    mean: float | None
    sd: float | None
    negative_share: float | None
    fits: tuple[FamilyFit, ...] = ()
    chosen: str | None = None
    mean_interval: tuple[float, float] | None = None
    sd_interval: tuple[float, float] | None = None
    level: float = DEFAULT_LEVEL
    bootstrap: int = 0
    si_distr: tuple[float, ...] = field(default_factory=tuple)
    dropped_share: float | None = None

    @property
    def chosen_fit(self) -> FamilyFit | None:
        return next((f for f in self.fits if f.family == self.chosen), None)


def _frozen(family: str, params: dict[str, float]) -> Any:
    if family == "normal":
        return stats.norm(loc=params["loc"], scale=params["scale"])
    if family == "gamma":
        return stats.gamma(params["shape"], loc=0.0, scale=params["scale"])
    if family == "lognormal":
        return stats.lognorm(params["shape"], loc=0.0, scale=params["scale"])
    raise SerialIntervalError(f"unknown family {family!r}; one of {', '.join(FAMILIES)}")


def _fit_params(family: str, values: FloatArray) -> dict[str, float]:
    if family == "normal":
        loc, scale = stats.norm.fit(values)
        return {"loc": float(loc), "scale": float(scale)}
    if family == "gamma":
        shape, _, scale = stats.gamma.fit(values, floc=0.0)
        return {"shape": float(shape), "scale": float(scale)}
    shape, _, scale = stats.lognorm.fit(values, floc=0.0)
    return {"shape": float(shape), "scale": float(scale)}


def _fit(family: str, values: FloatArray, every: FloatArray) -> FamilyFit | None:
    # Normal on every pair; gamma and lognormal on the positive part.
    data = values if family == "normal" else values[values > 0]
    if data.size < MIN_PAIRS_FOR_FIT or np.ptp(data) == 0:
        return None
    params = _fit_params(family, data)
    dist = _frozen(family, params)
    with np.errstate(divide="ignore"):
        log_likelihood = float(np.sum(dist.logpdf(every)))
    aic = 2 * len(params) - 2 * log_likelihood if math.isfinite(log_likelihood) else math.inf
    return FamilyFit(
        family=family,
        params=params,
        mean=float(dist.mean()),
        sd=float(dist.std()),
        fitted_pairs=int(data.size),
        log_likelihood=log_likelihood,
        aic=aic,
    )


def _refit_many(family: str, samples: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and sd of ``family`` fitted by maximum likelihood to each row of ``samples`` at once.

    The fits are those of ``scipy.stats`` (unit tests compare them row by row): the normal's and the
    lognormal's (location 0) are closed form (mean and sd with divisor n, of the values or of their logs);
    the gamma's (location 0) has mean equal to the sample mean and a shape solving
    ``log a - digamma(a) = log(mean) - mean(log x)``, found for every row together with
    ``scipy.optimize.newton`` from the start value scipy's own gamma fit uses.
    """
    if family == "normal":
        return samples.mean(axis=1), samples.std(axis=1)
    logs = np.log(samples)
    if family == "lognormal":
        shape, scale = logs.std(axis=1), np.exp(logs.mean(axis=1))
        return scale * np.exp(shape**2 / 2), scale * np.sqrt(np.expm1(shape**2) * np.exp(shape**2))
    mean = samples.mean(axis=1)
    gap = np.log(mean) - logs.mean(axis=1)
    # A resample of one repeated value (gap 0) is a point mass: sd 0.
    spread = gap > 1e-12
    start = (3 - gap[spread] + np.sqrt((gap[spread] - 3) ** 2 + 24 * gap[spread])) / (12 * gap[spread])
    target = gap[spread]
    shape = np.asarray(
        optimize.newton(
            lambda a: np.log(a) - special.digamma(a) - target,
            start,
            fprime=lambda a: 1 / a - special.polygamma(1, a),
            tol=1e-12,
            maxiter=100,
        ),
        dtype=np.float64,
    )
    sd = np.zeros_like(mean)
    sd[spread] = mean[spread] / np.sqrt(shape)
    return mean, sd


def discretise(dist: Any, max_days: int = MAX_SI_DAYS) -> tuple[FloatArray, float]:
    """``(w, dropped)``: probabilities of 0, 1, ... days (``w_0 = 0``, rounding to the nearest day),
    renormalised over days 1 and later, and the share at 0 days or less that was left out."""
    dropped = float(dist.cdf(0.5))
    days = np.arange(1, max_days + 1, dtype=np.float64)
    upper = np.asarray(dist.cdf(days + 0.5), dtype=np.float64)
    # The last day kept is the first whose upper edge leaves at most TAIL_MASS beyond it.
    beyond = np.asarray(dist.sf(days + 0.5), dtype=np.float64)
    last = int(np.argmax(beyond <= TAIL_MASS)) + 1 if np.any(beyond <= TAIL_MASS) else max_days
    mass = np.diff(np.concatenate([[dropped], upper[:last]]))
    total = float(mass.sum())
    if not total > 0:
        raise SerialIntervalError("the fitted distribution puts no mass on 1 day or more")
    return np.concatenate([[0.0], mass / total]), dropped


def fit_serial_interval(
    intervals: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    level: float = DEFAULT_LEVEL,
) -> SerialInterval:
    """Summary, fits, the AIC choice with its bootstrap interval and the discretised distribution."""
    values = np.asarray(intervals, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise SerialIntervalError("every interval must be a finite number of days")
    if not 0 < level < 1:
        raise SerialIntervalError(f"level must lie between 0 and 1, got {level}")
    if bootstrap < 0:
        raise SerialIntervalError(f"bootstrap must be 0 or more resamples, got {bootstrap}")
    n = int(values.size)
    if n == 0:
        return SerialInterval(pairs=0, mean=None, sd=None, negative_share=None, level=level)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else None
    negative_share = float(np.count_nonzero(values < 0) / n)
    fits = tuple(f for f in (_fit(family, values, values) for family in FAMILIES) if f is not None)
    summary = SerialInterval(pairs=n, mean=mean, sd=sd, negative_share=negative_share, level=level)
    finite = [f for f in fits if math.isfinite(f.aic)]
    if not finite:
        return replace(summary, fits=fits)
    best = min(finite, key=lambda f: f.aic)
    w, dropped = discretise(best.frozen())
    mean_interval = sd_interval = None
    if bootstrap > 0:
        data = values if best.family == "normal" else values[values > 0]
        means = np.empty(bootstrap)
        sds = np.empty(bootstrap)
        draws = rng.integers(0, data.size, size=(bootstrap, data.size))
        samples = data[draws]
        means[:], sds[:] = _refit_many(best.family, samples)
        tail = (1 - level) / 2 * 100
        low_m, high_m = np.percentile(means, [tail, 100 - tail])
        low_s, high_s = np.percentile(sds, [tail, 100 - tail])
        mean_interval = (float(low_m), float(high_m))
        sd_interval = (float(low_s), float(high_s))
    return SerialInterval(
        pairs=n,
        mean=mean,
        sd=sd,
        negative_share=negative_share,
        fits=fits,
        chosen=best.family,
        mean_interval=mean_interval,
        sd_interval=sd_interval,
        level=level,
        bootstrap=bootstrap,
        si_distr=tuple(float(x) for x in w),
        dropped_share=dropped,
    )
