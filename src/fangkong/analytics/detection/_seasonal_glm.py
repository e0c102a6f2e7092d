"""Small log-link count GLMs for the detectors' baselines: Poisson, negative binomial, ``glm.nb``.

CUSUM (``m="glm"``) and GLR-NB (``mu0`` not given) fit the in-control mean on the time points before
monitoring starts, as R ``surveillance`` does with ``glm(..., family = poisson())``,
``glm(..., family = negative.binomial(theta))`` or ``MASS::glm.nb``. The model is
``log mu_t = b0 [+ b1 t] + sum_s (c_s cos(2 pi s t / p) + d_s sin(2 pi s t / p))`` with ``t`` the
1-based time index (R's ``disProg`` starts counting at 1).

Fitting is iteratively reweighted least squares to a tighter tolerance than R (``1e-8`` relative
deviance change there), so fitted means agree with R to far better than the detectors' 1e-6.

As R's log link (``make.link("log")``), fitted means are floored at the machine epsilon, so a
history with almost no cases (RKI's m5 before week 60: one case in 60 weeks) whose fit drifts to
rates of zero gives means of ``2.2e-16`` and a warning, as R's ``glm.fit`` does ("fitted rates
numerically 0 occurred"), instead of failing.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from fangkong.analytics.detection.base import DetectorParameterError, FloatArray

IRLS_TOLERANCE = 1e-12
"""relative change in deviance at which IRLS stops; R's glm.control uses 1e-8."""

IRLS_MAX_ITERATIONS = 100
"""iterations; R's glm.control default is 25, more are allowed since the tolerance is tighter."""

RATE_FLOOR = float(np.finfo(np.float64).eps)
"""smallest fitted mean; R's log link ``linkinv = pmax(exp(eta), .Machine$double.eps)``."""

THETA_TOLERANCE = 1e-10
"""relative change of the NB size parameter at which glm.nb's alternation stops."""


def seasonal_design(t: FloatArray, period: float, harmonics: int, trend: bool) -> FloatArray:
    """Columns: intercept, optional linear trend in ``t``, then cos/sin pairs for each harmonic."""
    columns = [np.ones_like(t)]
    if trend:
        columns.append(t)
    for s in np.arange(1, harmonics + 1):
        angle = 2.0 * np.pi * s * t / period
        columns.extend([np.cos(angle), np.sin(angle)])
    return np.column_stack(columns)


def log_link_mean(eta: FloatArray) -> FloatArray:
    """``exp(eta)`` floored at the machine epsilon, as R's log link (also R's ``predict`` response)."""
    mean: FloatArray = np.maximum(np.exp(eta), RATE_FLOOR)
    return mean


def _deviance(y: FloatArray, mu: FloatArray, theta: float | None) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
        if theta is None:
            return float(2.0 * np.sum(ylogy - (y - mu)))
        tail = (y + theta) * np.log((y + theta) / (mu + theta))
        return float(2.0 * np.sum(ylogy - tail))


def fit_log_glm(X: FloatArray, y: FloatArray, theta: float | None = None) -> FloatArray:
    """Coefficients of a log-link GLM.

    Poisson when ``theta`` is None, else negative binomial with variance ``mu + mu^2 / theta``.
    """
    if X.shape[0] <= X.shape[1]:
        raise DetectorParameterError(
            f"range: {X.shape[0]} time points before monitoring are too few to fit {X.shape[1]} coefficients"
        )
    mu = y + 0.1  # R's poisson()$initialize: mustart = y + 0.1
    eta = np.log(mu)
    deviance_old = np.inf
    beta: FloatArray = np.zeros(X.shape[1])
    converged = False
    for _ in np.arange(IRLS_MAX_ITERATIONS):
        variance_factor = 1.0 if theta is None else 1.0 + mu / theta
        weight = mu / variance_factor
        working = eta + (y - mu) / mu
        sqrt_w = np.sqrt(weight)
        solution = np.linalg.lstsq(X * sqrt_w[:, None], working * sqrt_w, rcond=None)[0]
        beta = np.asarray(solution, dtype=np.float64)
        eta = X @ beta
        mu = log_link_mean(eta)
        deviance = _deviance(y, mu, theta)
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < IRLS_TOLERANCE:
            converged = True
            break
        deviance_old = deviance
    warn_fit(converged, mu)
    return np.asarray(beta, dtype=np.float64)


def warn_fit(converged: bool, mu: FloatArray) -> None:
    """R's glm.fit warnings: the fit stopped without converging, or rates fell to the floor."""
    if not converged:
        warnings.warn("glm fit: algorithm did not converge", RuntimeWarning, stacklevel=3)
    if np.any(mu <= RATE_FLOOR):
        warnings.warn("glm fit: fitted rates numerically 0 occurred", RuntimeWarning, stacklevel=3)


def _theta_ml(y: FloatArray, mu: FloatArray) -> float:
    """Maximum-likelihood NB size for fixed means (Newton's method, as MASS::theta.ml)."""
    n = y.shape[0]
    theta: float = n / max(float(np.sum((y / mu - 1.0) ** 2)), 1e-8)
    for _ in np.arange(IRLS_MAX_ITERATIONS):
        score = np.sum(
            special.digamma(theta + y)
            - special.digamma(theta)
            + np.log(theta)
            + 1.0
            - np.log(theta + mu)
            - (y + theta) / (mu + theta)
        )
        info = np.sum(
            -special.polygamma(1, theta + y)
            + special.polygamma(1, theta)
            - 1.0 / theta
            + 2.0 / (mu + theta)
            - (y + theta) / (mu + theta) ** 2
        )
        theta_new = float(theta + score / info)
        if not np.isfinite(theta_new) or theta_new <= 0:
            raise DetectorParameterError("alpha: the NB dispersion could not be estimated; give alpha")
        done = abs(theta_new - theta) <= THETA_TOLERANCE * theta
        theta = theta_new
        if done:
            break
    return theta


def fit_glm_nb(X: FloatArray, y: FloatArray) -> tuple[FloatArray, float]:
    """Coefficients and estimated NB size ``theta``, alternating IRLS and ``theta_ml`` like MASS::glm.nb."""
    beta = fit_log_glm(X, y)
    theta = _theta_ml(y, log_link_mean(X @ beta))
    for _ in np.arange(IRLS_MAX_ITERATIONS):
        beta = fit_log_glm(X, y, theta)
        theta_new = _theta_ml(y, log_link_mean(X @ beta))
        if abs(theta_new - theta) <= THETA_TOLERANCE * theta:
            theta = theta_new
            break
        theta = theta_new
    return beta, theta
