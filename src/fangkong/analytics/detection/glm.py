"""Quasi-Poisson log-linear GLM by iteratively reweighted least squares, compiled with numba.

The regression detectors (Farrington 1996, farringtonFlexible) fit many small models of one shape:
a log-rate with one level per seasonal block ("cell means", which spans the same column space as R's
intercept plus treatment contrasts) and an optional common linear time trend. The normal equations of
that design form an arrowhead matrix, so one IRLS step costs O(rows + levels) instead of
O(rows * columns^2), and hat values and prediction variances have closed forms:

    (X'WX)^-1 restricted to level l and time t:  1/S0_l + (t - S1_l/S0_l)^2 / schur
    schur = S2 - sum_l S1_l^2 / S0_l

with S0_l = sum of weights in level l, S1_l = sum of weight*time in level l, S2 = sum of weight*time^2.

The iteration follows R's ``glm.fit`` (stats 4.x) step for step, because the detectors must reproduce
R ``surveillance`` to about 1e-4: start at mu = y + 0.1 (``poisson()$initialize``), stop when
``|dev - devold| / (|dev| + 0.1) < epsilon`` (epsilon 1e-8, at most 25 iterations, ``glm.control``).
Like R, the working weights kept for the covariance, the hat values and the Pearson dispersion are
those of the last iteration's least-squares step, while fitted values are those after it.

Arrays in, arrays out; the kernels are plain functions on preallocated buffers so that batch drivers
can call them in a loop without allocation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GLM_EPSILON = 1e-8
"""Relative deviance change that stops IRLS (dimensionless); R ``glm.control()$epsilon``."""
GLM_MAX_ITERATIONS = 25
"""Most IRLS iterations before giving up (count); R ``glm.control()$maxit``."""
POISSON_START_SHIFT = 0.1
"""Added to counts for the starting means (cases); R ``poisson()$initialize``: ``mustart <- y + 0.1``."""

_F = TypeVar("_F", bound=Callable[..., Any])


def jit(fn: _F) -> _F:
    """Compile ``fn`` with numba in nopython mode, cached on disk, keeping its Python signature."""
    return cast(_F, numba.njit(cache=True, nogil=True, error_model="numpy")(fn))


@jit
def irls_fit(
    y: FloatArray,
    ylogy: FloatArray,
    t: FloatArray,
    level: IntArray,
    offset: FloatArray,
    prior_w: FloatArray,
    n: int,
    n_levels: int,
    use_trend: bool,
    max_iter: int,
    epsilon: float,
    eta: FloatArray,
    mu: FloatArray,
    work_w: FloatArray,
    s0: FloatArray,
    s1: FloatArray,
    r0: FloatArray,
    intercept: FloatArray,
) -> tuple[bool, float, float, int]:
    """Fit one Poisson log-linear model on the first ``n`` rows.

    Returns (converged, slope, schur, iterations).

    ``ylogy`` holds y*log(y) (0 where y == 0). On return ``intercept`` holds the level log-rates,
    ``eta``/``mu`` the final linear predictor and means, and ``work_w``, ``s0``, ``s1`` and ``schur``
    the weights and sums of the last least-squares step (what R keeps in ``fit$weights`` and ``fit$qr``).
    A non-finite deviance is reported as non-convergence.
    """
    for i in range(n):
        mu[i] = y[i] + POISSON_START_SHIFT
        eta[i] = math.log(mu[i])
    dev_old = 0.0
    for i in range(n):
        dev_old += prior_w[i] * (ylogy[i] - y[i] * eta[i] - (y[i] - mu[i]))
    dev_old *= 2.0
    slope = 0.0
    schur = math.nan
    for it in range(1, max_iter + 1):
        for j in range(n_levels):
            s0[j] = 0.0
            s1[j] = 0.0
            r0[j] = 0.0
        s2 = 0.0
        rt = 0.0
        for i in range(n):
            w = prior_w[i] * mu[i]
            z = eta[i] - offset[i] + (y[i] - mu[i]) / mu[i]
            work_w[i] = w
            j = level[i]
            s0[j] += w
            r0[j] += w * z
            if use_trend:
                wt = w * t[i]
                s1[j] += wt
                s2 += wt * t[i]
                rt += wt * z
        slope = 0.0
        if use_trend:
            schur = s2
            num = rt
            for j in range(n_levels):
                if s0[j] > 0.0:
                    schur -= s1[j] * s1[j] / s0[j]
                    num -= s1[j] * r0[j] / s0[j]
            slope = num / schur
        for j in range(n_levels):
            intercept[j] = (r0[j] - s1[j] * slope) / s0[j] if s0[j] > 0.0 else 0.0
        dev = 0.0
        for i in range(n):
            e = intercept[level[i]] + slope * t[i] + offset[i]
            eta[i] = e
            m = math.exp(e)
            mu[i] = m
            dev += prior_w[i] * (ylogy[i] - y[i] * e - (y[i] - m))
        dev *= 2.0
        if not math.isfinite(dev):
            return False, slope, schur, it
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return True, slope, schur, it
        dev_old = dev
    return False, slope, schur, max_iter


@jit
def model_rank(s0: FloatArray, n_levels: int, use_trend: bool) -> int:
    """Number of estimated coefficients: levels that have rows, plus the trend."""
    rank = 1 if use_trend else 0
    for j in range(n_levels):
        if s0[j] > 0.0:
            rank += 1
    return rank


@jit
def pearson_dispersion(
    y: FloatArray, mu: FloatArray, work_w: FloatArray, prior_w: FloatArray, n: int, rank: int
) -> float:
    """Pearson estimate of the quasi-Poisson dispersion, as R ``summary.glm`` computes it.

    sum(w_work * ((y - mu)/mu)^2) / (rows with positive prior weight - rank); NaN without residual df.
    """
    total = 0.0
    n_ok = 0
    for i in range(n):
        if prior_w[i] > 0.0:
            n_ok += 1
            r = (y[i] - mu[i]) / mu[i]
            total += work_w[i] * r * r
    df = n_ok - rank
    if df <= 0:
        return math.nan
    return total / df


@jit
def hat_value(work_w_i: float, t_i: float, s0_j: float, s1_j: float, schur: float, use_trend: bool) -> float:
    """Diagonal of the hat matrix for one row of level j at time t_i."""
    v = 1.0 / s0_j
    if use_trend:
        d = t_i - s1_j / s0_j
        v += d * d / schur
    return work_w_i * v


@jit
def unscaled_variance(t0: float, s0_j: float, s1_j: float, schur: float, use_trend: bool) -> float:
    """x0'(X'WX)^-1 x0 for a new point of level j at time t0 (multiply by the dispersion)."""
    if s0_j <= 0.0:
        return math.nan
    v = 1.0 / s0_j
    if use_trend:
        d = t0 - s1_j / s0_j
        v += d * d / schur
    return v


@dataclass(frozen=True)
class PoissonGlmFit:
    """One fitted log-linear model: level log-rates, trend per time unit and the quantities R reports."""

    intercepts: FloatArray
    slope: float
    fitted: FloatArray
    hat: FloatArray
    dispersion: float
    df_residual: int
    converged: bool
    iterations: int
    level_weight: FloatArray
    level_weighted_time: FloatArray
    schur: float
    has_trend: bool

    def predict_link(self, level: int, time: float, offset: float = 0.0) -> tuple[float, float]:
        """Linear predictor and its unscaled variance x0'(X'WX)^-1 x0 at a new point."""
        eta = float(self.intercepts[level] + self.slope * time + offset)
        var = unscaled_variance(
            time, self.level_weight[level], self.level_weighted_time[level], self.schur, self.has_trend
        )
        return eta, float(var)

    def slope_t_value(self) -> float:
        """Wald t statistic of the trend, with the Pearson dispersion (R ``summary.glm``)."""
        if not self.has_trend:
            return math.nan
        return self.slope / math.sqrt(self.dispersion / self.schur)


def fit_poisson_glm(
    counts: npt.ArrayLike,
    time: npt.ArrayLike | None = None,
    level: npt.ArrayLike | None = None,
    prior_weights: npt.ArrayLike | None = None,
    offset: npt.ArrayLike | None = None,
    max_iter: int = GLM_MAX_ITERATIONS,
    epsilon: float = GLM_EPSILON,
) -> PoissonGlmFit:
    """Fit log E[y] = level log-rate (+ slope * time) (+ offset) by IRLS; ``time=None`` drops the trend.

    ``level`` holds integer codes 0..L-1 (default: one level). A convenience for single fits and tests;
    batch code calls :func:`irls_fit` directly on reused buffers.
    """
    y = np.asarray(counts, dtype=np.float64)
    n = y.shape[0]
    use_trend = time is not None
    t = np.zeros(n) if time is None else np.asarray(time, dtype=np.float64)
    lev = np.zeros(n, dtype=np.int64) if level is None else np.asarray(level, dtype=np.int64)
    pw = np.ones(n) if prior_weights is None else np.asarray(prior_weights, dtype=np.float64)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=np.float64)
    for name, arr in (("time", t), ("level", lev), ("prior_weights", pw), ("offset", off)):
        if arr.shape != (n,):
            raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
    if n == 0 or np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("counts must be a non-empty array of finite, non-negative values")
    if np.any(lev < 0):
        raise ValueError("level codes must be >= 0")
    n_levels = int(lev.max()) + 1
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    eta = np.empty(n)
    mu = np.empty(n)
    work_w = np.empty(n)
    s0 = np.empty(n_levels)
    s1 = np.zeros(n_levels)
    r0 = np.empty(n_levels)
    intercepts = np.empty(n_levels)
    converged, slope, schur, iterations = irls_fit(
        y, ylogy, t, lev, off, pw, n, n_levels, use_trend, max_iter, epsilon,
        eta, mu, work_w, s0, s1, r0, intercepts,
    )  # fmt: skip
    rank = model_rank(s0, n_levels, use_trend)
    dispersion = pearson_dispersion(y, mu, work_w, pw, n, rank)
    hat = np.array([hat_value(work_w[i], t[i], s0[lev[i]], s1[lev[i]], schur, use_trend) for i in range(n)])
    return PoissonGlmFit(
        intercepts=intercepts,
        slope=float(slope) if use_trend else 0.0,
        fitted=mu.copy(),
        hat=hat,
        dispersion=float(dispersion),
        df_residual=int(np.count_nonzero(pw > 0)) - int(rank),
        converged=bool(converged),
        iterations=int(iterations),
        level_weight=s0,
        level_weighted_time=s1,
        schur=float(schur),
        has_trend=use_trend,
    )
