"""Upper bounds, tail probabilities and exceedance scores of the Farrington detectors, vectorised.

Read from R ``surveillance`` 1.20.3 (``algo.farrington.threshold``, ``algo.farrington.threshold.farrington``
and ``algo.farrington.threshold.noufaily``):

* delta method (Farrington et al. 1996): on the scale y^e (e = 1, 1/2 or 2/3) the prediction error has
  variance Var = c(mu0) * tau with tau = phi + se(mu0)^2/mu0; bounds are (mu0^e -/+ z * sd)^(1/e).
  ``algo.farrington`` uses z = qnorm(1 - alpha/2), ``farringtonFlexible`` z = qnorm(1 - alpha).
* negative binomial (Noufaily et al. 2013): quantiles of a negative binomial with mean mu0 and variance
  phi * mu0 (Poisson when phi = 1), with mu0 = exp(eta0) ("nbPlugin") or its upper (1 - alpha) quantile
  exp(eta0 + z * se(eta0)) ("muan").

The score is (y - fit) / (upper - fit). For the negative binomial methods R computes it with the linear
predictor eta0 as ``fit`` (``predFit`` is on the link scale there); that is kept so that scores agree
with R, and it does not change the alarm rule score > 1, which is y > upper either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]

POWER_EXPONENTS = {"none": 1.0, "1/2": 0.5, "2/3": 2.0 / 3.0}
"""Power transformation name -> exponent e; R ``powertrans`` / ``skewness.transform``."""
THRESHOLD_METHODS = ("delta", "nbPlugin", "muan")
"""``thresholdMethod`` values of R ``farringtonFlexible``."""


@dataclass(frozen=True)
class Bounds:
    """Lower and upper bound, upper tail probability P(Y >= y) and exceedance score, elementwise."""

    lower: FloatArray
    upper: FloatArray
    prob: FloatArray
    score: FloatArray


def delta_bounds(
    mu0: npt.ArrayLike,
    se_mu0: npt.ArrayLike,
    phi: npt.ArrayLike,
    alpha: float,
    y: npt.ArrayLike,
    powertrans: str = "2/3",
    two_sided: bool = False,
) -> Bounds:
    """Bounds of the delta method on the power-transformed scale.

    ``mu0`` and ``se_mu0`` are the predicted mean and its standard error on the response scale.
    ``prob`` is the upper tail P(Y^e >= y^e) of the normal approximation (R >= 1.17 ``pvalue``).
    """
    if powertrans not in POWER_EXPONENTS:
        raise ValueError(f"powertrans must be one of {sorted(POWER_EXPONENTS)}, got {powertrans!r}")
    e = POWER_EXPONENTS[powertrans]
    mu = np.asarray(mu0, dtype=np.float64)
    se_mu = np.asarray(se_mu0, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    tau = np.asarray(phi, dtype=np.float64) + se_mu**2 / mu
    if powertrans == "none":
        sd = np.sqrt(mu * tau)
    elif powertrans == "1/2":
        sd = np.sqrt(tau / 4.0)
    else:
        sd = np.sqrt(4.0 / 9.0 * np.cbrt(mu) * tau)
    z = float(stats.norm.ppf(1.0 - alpha / 2.0 if two_sided else 1.0 - alpha))
    centre = mu**e
    with np.errstate(invalid="ignore"):
        a = _inverse_power(centre - z * sd, e)
        b = _inverse_power(centre + z * sd, e)
    # R sorts the two ends with NaN first, then floors the lower one at 0 ignoring NaN.
    upper = np.where(np.isnan(a), b, np.where(np.isnan(b), a, np.maximum(a, b)))
    lower_raw = np.where(np.isnan(a) | np.isnan(b), np.nan, np.minimum(a, b))
    lower = np.where(np.isnan(lower_raw), 0.0, np.maximum(lower_raw, 0.0))
    prob = stats.norm.sf(y_arr**e, loc=centre, scale=sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (y_arr - mu) / (upper - mu)
    return Bounds(lower=lower, upper=upper, prob=prob, score=score)


def _inverse_power(x: FloatArray, e: float) -> FloatArray:
    """x^(1/e) with R's semantics: NaN for negative x unless 1/e is an integer."""
    inv = 1.0 / e
    if float(inv).is_integer():
        return np.asarray(x**inv, dtype=np.float64)
    return np.where(x >= 0.0, np.abs(x) ** inv, np.nan)


def negbin_bounds(
    eta0: npt.ArrayLike,
    se_eta0: npt.ArrayLike,
    phi: npt.ArrayLike,
    alpha: float,
    y: npt.ArrayLike,
    method: str = "nbPlugin",
) -> Bounds:
    """Bounds of the negative binomial plug-in ("nbPlugin") or mean-quantile ("muan") method.

    ``eta0`` and ``se_eta0`` are on the link (log) scale; ``prob`` is P(Y >= y).
    """
    if method not in ("nbPlugin", "muan"):
        raise ValueError(f"method must be 'nbPlugin' or 'muan', got {method!r}")
    eta = np.asarray(eta0, dtype=np.float64)
    se = np.asarray(se_eta0, dtype=np.float64)
    phi_arr = np.broadcast_to(np.asarray(phi, dtype=np.float64), eta.shape)
    y_arr = np.broadcast_to(np.asarray(y, dtype=np.float64), eta.shape)
    shift = 0.0 if method == "nbPlugin" else float(stats.norm.ppf(1.0 - alpha))
    with np.errstate(over="ignore"):
        mean = np.exp(eta + shift * se)
    finite = np.isfinite(mean)
    over = finite & (phi_arr > 1.0)
    pois = finite & ~over
    lower = np.full(eta.shape, np.nan)
    upper = np.full(eta.shape, np.nan)
    prob = np.full(eta.shape, np.nan)
    if np.any(over):
        size = mean[over] / (phi_arr[over] - 1.0)
        p = 1.0 / phi_arr[over]
        lower[over] = stats.nbinom.ppf(alpha, size, p)
        upper[over] = stats.nbinom.ppf(1.0 - alpha, size, p)
        prob[over] = stats.nbinom.sf(y_arr[over] - 1.0, size, p)
    if np.any(pois):
        lower[pois] = stats.poisson.ppf(alpha, mean[pois])
        upper[pois] = stats.poisson.ppf(1.0 - alpha, mean[pois])
        prob[pois] = stats.poisson.sf(y_arr[pois] - 1.0, mean[pois])
    lower = np.where(np.isnan(lower), lower, np.maximum(lower, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (y_arr - eta) / (upper - eta)
    return Bounds(lower=lower, upper=upper, prob=prob, score=score)
