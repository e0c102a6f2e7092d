"""The model-fitting core shared by ``farrington`` and ``farrington_flexible``, compiled with numba.

For every (series, judged time point) pair it reproduces R ``surveillance`` 1.20.3:

1. fit the quasi-Poisson GLM on the reference rows (``algo.farrington.fitGLM.fast`` /
   ``algo.farrington.fitGLM.flexible``): if IRLS does not converge with the trend, refit without it;
   the flexible variant gives up (no result) if that fails too;
2. phi = max(Pearson dispersion, 1); with ``reweight``, Anscombe residuals
   s = 1.5 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h)) give weights gamma * s^-2 where
   s > threshold and gamma elsewhere, gamma making them average 1; refit and recompute phi;
3. keep the trend only if it is significant (two-sided t test of the slope with the Pearson dispersion,
   p < pThresholdTrend), at least three years are used, and the prediction does not exceed the largest
   reference count; otherwise refit without it (again with reweighting);
4. predict the linear predictor eta0 at the judged point and its standard error. ``algo.farrington``
   scales it with phi. ``farringtonFlexible`` passes ``dispersion`` inside ``newdata``, so R's
   ``predict.glm`` (and the trend's t test) use ``summary.glm``'s dispersion instead, and after
   reweighting that is computed from ``model$weights``, which ``fitGLM.flexible`` has overwritten
   with the prior weights omega: sum(omega * ((y - mu)/mu)^2) / df, unfloored. Both are reproduced,
   since the reference outputs depend on them.

Series are processed in parallel (``prange``); each worker reuses its buffers across time points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
from scipy import stats

from fangkong.analytics.detection.farrington_reference import Design
from fangkong.analytics.detection.glm import (
    GLM_EPSILON,
    GLM_MAX_ITERATIONS,
    hat_value,
    irls_fit,
    model_rank,
    pearson_dispersion,
    unscaled_variance,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ANSCOMBE_FACTOR = 1.5
"""Scale of the Anscombe residual for the Poisson family (dimensionless); Farrington et al. 1996, eq. 3."""
MIN_YEARS_FOR_TREND = 3
"""Fewest years back (b) for which a trend may be kept (years); R ``atLeastThreeYears <- (b >= 3)``."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit_parallel(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, parallel=True, error_model="numpy")(fn))


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True, error_model="numpy")(fn))


@_jit
def anscombe_residual(y: float, mu: float, phi: float, hat: float) -> float:
    """Standardised Anscombe residual of a Poisson count, as R ``anscombe.residuals``."""
    raw = ANSCOMBE_FACTOR * (y ** (2.0 / 3.0) * mu ** (-1.0 / 6.0) - math.sqrt(mu))
    return float(raw / math.sqrt(phi * (1.0 - hat)))


@_jit
def anscombe_weights(s: FloatArray, n: int, threshold: float) -> None:
    """Replace the residuals s[:n] by weights: gamma * s^-2 above ``threshold``, gamma elsewhere.

    gamma = n / sum(s^-2 if s > threshold else 1), so the weights average 1 (R
    ``algo.farrington.assign.weights``).
    """
    total = 0.0
    for i in range(n):
        if s[i] > threshold:
            s[i] = 1.0 / (s[i] * s[i])
        else:
            s[i] = 1.0
        total += s[i]
    gamma = n / total
    for i in range(n):
        s[i] *= gamma


@_jit
def _fit_model(
    y: FloatArray,
    ylogy: FloatArray,
    t: FloatArray,
    lev: IntArray,
    off: FloatArray,
    pw: FloatArray,
    n: int,
    n_levels: int,
    trend: bool,
    reweight: bool,
    weights_threshold: float,
    flexible: bool,
    eta: FloatArray,
    mu: FloatArray,
    work_w: FloatArray,
    s0: FloatArray,
    s1: FloatArray,
    r0: FloatArray,
    intercept: FloatArray,
) -> tuple[bool, bool, float, float, float, float]:
    """One ``fitGLM`` call; returns (fitted, trend used, slope, schur, phi, dispersion R reports later).

    ``flexible`` selects ``fitGLM.flexible`` (no result if IRLS fails even without the trend) over
    ``fitGLM.fast`` (carry on regardless).
    """
    for i in range(n):
        pw[i] = 1.0
    conv, slope, schur, _ = irls_fit(
        y, ylogy, t, lev, off, pw, n, n_levels, trend, GLM_MAX_ITERATIONS, GLM_EPSILON,
        eta, mu, work_w, s0, s1, r0, intercept,
    )  # fmt: skip
    if not conv:
        if trend:
            trend = False
            conv, slope, schur, _ = irls_fit(
                y, ylogy, t, lev, off, pw, n, n_levels, trend, GLM_MAX_ITERATIONS, GLM_EPSILON,
                eta, mu, work_w, s0, s1, r0, intercept,
            )  # fmt: skip
        if not conv and flexible:
            return False, trend, slope, schur, math.nan, math.nan
    rank = model_rank(s0, n_levels, trend)
    disp = pearson_dispersion(y, mu, work_w, pw, n, rank)
    phi = max(disp, 1.0) if not math.isnan(disp) else math.nan
    if reweight:
        for i in range(n):
            j = lev[i]
            h = hat_value(work_w[i], t[i], s0[j], s1[j], schur, trend)
            pw[i] = anscombe_residual(y[i], mu[i], phi, h)
        anscombe_weights(pw, n, weights_threshold)
        # R does not check convergence of the reweighted refit.
        conv, slope, schur, _ = irls_fit(
            y, ylogy, t, lev, off, pw, n, n_levels, trend, GLM_MAX_ITERATIONS, GLM_EPSILON,
            eta, mu, work_w, s0, s1, r0, intercept,
        )  # fmt: skip
        rank = model_rank(s0, n_levels, trend)
        disp = pearson_dispersion(y, mu, work_w, pw, n, rank)
        phi = max(disp, 1.0) if not math.isnan(disp) else math.nan
        if flexible:
            # fitGLM.flexible then stores the prior weights in model$weights, where summary.glm
            # expects the working weights, so R's later dispersion is sum(omega * ((y - mu)/mu)^2)/df.
            disp = pearson_dispersion(y, mu, pw, pw, n, rank)
    return True, trend, slope, schur, phi, disp


@_jit_parallel
def fit_predict_many(
    counts: FloatArray,
    log_offset: FloatArray,
    use_offset: bool,
    start: IntArray,
    rows: IntArray,
    time: FloatArray,
    level: IntArray,
    levels: IntArray,
    pred_level: IntArray,
    judged: IntArray,
    max_rows: int,
    trend: bool,
    reweight: bool,
    weights_threshold: float,
    trend_critical_t: FloatArray,
    years_allow_trend: bool,
    flexible: bool,
    eta0: FloatArray,
    se_eta0: FloatArray,
    phi_out: FloatArray,
    do_trend: BoolArray,
    slope_out: FloatArray,
    fitted_ok: BoolArray,
) -> None:
    """Fill the (series, judged point) output arrays; see the module docstring for the steps."""
    n_series = counts.shape[0]
    n_judged = judged.shape[0]
    max_levels = 1
    for q in range(n_judged):
        max_levels = max(max_levels, levels[q])
    for s_idx in numba.prange(n_series):
        y = np.empty(max_rows)
        ylogy = np.empty(max_rows)
        t = np.empty(max_rows)
        lev = np.empty(max_rows, dtype=np.int64)
        off = np.zeros(max_rows)
        pw = np.empty(max_rows)
        eta = np.empty(max_rows)
        mu = np.empty(max_rows)
        work_w = np.empty(max_rows)
        s0 = np.empty(max_levels)
        s1 = np.zeros(max_levels)
        r0 = np.empty(max_levels)
        intercept = np.empty(max_levels)
        for q in range(n_judged):
            eta0[s_idx, q] = math.nan
            se_eta0[s_idx, q] = math.nan
            phi_out[s_idx, q] = math.nan
            slope_out[s_idx, q] = math.nan
            do_trend[s_idx, q] = False
            fitted_ok[s_idx, q] = False
            n = 0
            y_max = -math.inf
            for r_pos in range(start[q], start[q + 1]):
                r = rows[r_pos]
                v = counts[s_idx, r]
                if math.isnan(v):
                    continue
                y[n] = v
                ylogy[n] = v * math.log(v) if v > 0.0 else 0.0
                t[n] = time[r_pos]
                lev[n] = level[r_pos]
                if use_offset:
                    off[n] = log_offset[s_idx, r]
                y_max = max(y_max, v)
                n += 1
            if n == 0:
                continue
            n_levels = levels[q]
            pl = pred_level[q]
            off0 = log_offset[s_idx, judged[q]] if use_offset else 0.0
            ok, has_trend, slope, schur, phi, disp = _fit_model(
                y, ylogy, t, lev, off, pw, n, n_levels, trend, reweight, weights_threshold, flexible,
                eta, mu, work_w, s0, s1, r0, intercept,
            )  # fmt: skip
            if not ok:
                continue
            keep = False
            if has_trend:
                mu0 = math.exp(intercept[pl] + off0)
                df = 0
                for i in range(n):
                    if pw[i] > 0.0:
                        df += 1
                df -= model_rank(s0, n_levels, True)
                crit = trend_critical_t[df] if 0 < df < trend_critical_t.shape[0] else math.nan
                t_value = slope / math.sqrt(disp / schur)
                keep = years_allow_trend and abs(t_value) > crit and mu0 <= y_max
                if not keep:
                    ok, has_trend, slope, schur, phi, disp = _fit_model(
                        y, ylogy, t, lev, off, pw, n, n_levels, False, reweight, weights_threshold,
                        flexible, eta, mu, work_w, s0, s1, r0, intercept,
                    )  # fmt: skip
                    if not ok:
                        continue
            var = unscaled_variance(0.0, s0[pl], s1[pl], schur, has_trend)
            scale = disp if flexible else phi
            eta0[s_idx, q] = intercept[pl] + off0
            se_eta0[s_idx, q] = math.sqrt(var * scale)
            phi_out[s_idx, q] = phi
            do_trend[s_idx, q] = keep
            slope_out[s_idx, q] = slope if keep else math.nan
            fitted_ok[s_idx, q] = True


@dataclass(frozen=True)
class Prediction:
    """Per (series, judged point): linear predictor, its s.e., phi, trend kept, slope, model fitted."""

    eta0: FloatArray
    se_eta0: FloatArray
    phi: FloatArray
    trend: BoolArray
    slope: FloatArray
    fitted: BoolArray


def trend_critical_values(p_threshold: float, max_df: int) -> FloatArray:
    """|t| above which the slope's two-sided p-value is below ``p_threshold``, for df = 0..max_df."""
    df = np.arange(max_df + 1, dtype=np.float64)
    if p_threshold > 1.0:
        return np.full(max_df + 1, -np.inf)
    crit = np.asarray(stats.t.isf(p_threshold / 2.0, np.maximum(df, 1.0)), dtype=np.float64)
    crit[0] = np.nan
    return crit


def predict(
    counts: FloatArray,
    design: Design,
    *,
    log_offset: FloatArray | None,
    trend: bool,
    reweight: bool,
    weights_threshold: float,
    p_threshold_trend: float,
    b: int,
    flexible: bool,
) -> Prediction:
    """Run :func:`fit_predict_many` on a (series, time) count matrix and a shared design."""
    n_series = counts.shape[0]
    n_judged = design.judged.shape[0]
    eta0 = np.empty((n_series, n_judged))
    se = np.empty((n_series, n_judged))
    phi = np.empty((n_series, n_judged))
    kept = np.empty((n_series, n_judged), dtype=np.bool_)
    slope = np.empty((n_series, n_judged))
    ok = np.empty((n_series, n_judged), dtype=np.bool_)
    max_rows = max(design.max_rows, 1)
    offset = np.zeros((1, 1)) if log_offset is None else np.ascontiguousarray(log_offset)
    fit_predict_many(
        np.ascontiguousarray(counts, dtype=np.float64), offset, log_offset is not None,
        design.start, design.rows, design.time, design.level, design.levels, design.pred_level,
        design.judged, max_rows, trend, reweight, float(weights_threshold),
        trend_critical_values(p_threshold_trend, max_rows), b >= MIN_YEARS_FOR_TREND, flexible,
        eta0, se, phi, kept, slope, ok,
    )  # fmt: skip
    return Prediction(eta0=eta0, se_eta0=se, phi=phi, trend=kept, slope=slope, fitted=ok)
