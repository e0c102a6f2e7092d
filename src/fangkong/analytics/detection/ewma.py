"""ESSENCE-style EWMA detector (as CDC's Rnssp ``alert_ewma`` describes ESSENCE's implementation).

Source: CDCgov/Rnssp ``R/alert_ewma.R`` (function ``ewma_loop`` and its documentation) and
reference/surveillance/ALGORITHMS.md section 2, "ESSENCE / NSSP". For each day ``i`` (0-based):

* **Baseline**: the ``B`` days ending ``g + 1`` days before ``i`` (guard band ``g``); while the
  series is shorter it grows from 11 days, so days are judged from index ``11 + g``.
  ``expected`` is its mean and ``sd`` its standard deviation (n - 1 divisor).
* **Two smoothings** of the counts, ``z_i = lambda y_i + (1 - lambda) z_{i-1}`` from ``z_0 = y_0``:
  ``w1 = 0.4`` for gradual and ``w2 = 0.9`` for sudden events.
* **Sigma** for each weight: ``max(floor, sd * c + k)`` with the correction
  ``c = sqrt(w/(2-w) + 1/L - 2 (1-w)^(g+1) (1 - (1-w)^L) / L)`` for baseline length ``L``, the floor
  ``(w / t_warn) (1 + 0.5 (1-w)^2)`` and the constant
  ``(0.1289 - (0.2414 - 0.1826 (1-w)^4) log(10 * 0.05)) (w / t_warn)``, where ``t_warn`` is the 95 %
  Student-t quantile with ``L - 1`` degrees of freedom rounded to 5 decimals.
* **Statistic** ``(z_i - expected) / sigma``; its one-sided Student-t p-value with ``L - 1`` degrees
  of freedom. The smaller p-value of the two weights is kept (``pvalue``, with its ``score``). A
  smoothed value beyond the alert limit ``t_alert`` (the ``1 - alpha`` quantile, rounded to 5
  decimals) is pulled back to the limit before the next day, so one spike does not hold the chart up.
* **Alarm** ("red" in ESSENCE) when ``pvalue < alpha`` with ``alpha = 0.01``; ESSENCE's "yellow" is
  ``0.01 <= p < 0.05``.

``threshold`` is the count at which day ``i`` would alarm under either weight, given yesterday's
smoothed values. The published Rnssp loop caps the baseline at 28 days whatever ``B`` says; here
``B`` is honoured (identical at the default ``B = 28``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from fangkong.analytics.detection._common import (
    RangeSpec,
    as_series,
    build_result,
    check_int,
    check_probability,
    resolve_range,
)
from fangkong.analytics.detection.base import DetectionResult, DetectorParameterError

EWMA_BASELINE_DAYS = 28
"""days of baseline; Rnssp alert_ewma ``B = 28`` ("to match ESSENCE implementation")."""

EWMA_MIN_BASELINE_DAYS = 11
"""days; the baseline grows from this length at the start of a series (Rnssp ``min_baseline``)."""

EWMA_GUARD_DAYS = 2
"""days between baseline and the day judged; Rnssp alert_ewma ``g = 2``."""

EWMA_WEIGHT_GRADUAL = 0.4
"""smoothing weight for gradual events; Rnssp alert_ewma ``w1 = 0.4``."""

EWMA_WEIGHT_SUDDEN = 0.9
"""smoothing weight for sudden events; Rnssp alert_ewma ``w2 = 0.9`` ("approximate the C2 algorithm")."""

EWMA_ALPHA = 0.01
"""p-value below which a day alarms ("red"); Rnssp alert_ewma / ESSENCE."""

EWMA_WARNING_ALPHA = 0.05
"""p-value of ESSENCE's "yellow" warning; also sets the sigma floor and constant (Rnssp)."""

SIGMA_CONSTANT_A = 0.1289
"""Rnssp ewma_loop sigma constant term (empirical, ESSENCE)."""

SIGMA_CONSTANT_B = 0.2414
"""Rnssp ewma_loop sigma constant term (empirical, ESSENCE)."""

SIGMA_CONSTANT_C = 0.1826
"""Rnssp ewma_loop sigma constant term (empirical, ESSENCE)."""

T_QUANTILE_DECIMALS = 5
"""decimals to which ESSENCE rounds the Student-t limits (Rnssp ``round(qt(..), 5)``)."""


def ewma(
    observed: npt.ArrayLike,
    *,
    B: int = EWMA_BASELINE_DAYS,
    g: int = EWMA_GUARD_DAYS,
    w1: float = EWMA_WEIGHT_GRADUAL,
    w2: float = EWMA_WEIGHT_SUDDEN,
    alpha: float = EWMA_ALPHA,
    range: RangeSpec = None,
) -> DetectionResult:
    """ESSENCE EWMA over ``range`` (0-based; default: every day from ``11 + g``).

    The recursion always runs from the first day; ``range`` only selects which days are reported.
    Counts or percentages are accepted.
    """
    from fangkong.analytics.detection._ewma_kernel import ewma_recursion

    y = as_series(observed)
    B = check_int("B", B, EWMA_MIN_BASELINE_DAYS)
    g = check_int("g", g, 0)
    weights = np.array([check_probability("w1", w1), check_probability("w2", w2)])
    alpha = check_probability("alpha", alpha)
    idx = resolve_range(range, y.shape[0], EWMA_MIN_BASELINE_DAYS + g)
    lengths = np.arange(B + 1)
    dof = np.maximum(lengths - 1, 1)
    t_critical = special.stdtrit(dof, 1.0 - alpha)
    t_alert = np.round(t_critical, T_QUANTILE_DECIMALS)
    t_warn = np.round(special.stdtrit(dof, 1.0 - EWMA_WARNING_ALPHA), T_QUANTILE_DECIMALS)
    scale = weights[None, :] / t_warn[:, None]
    floor = scale * (1.0 + 0.5 * (1.0 - weights[None, :]) ** 2)
    constant = (
        SIGMA_CONSTANT_A
        - (SIGMA_CONSTANT_B - SIGMA_CONSTANT_C * (1.0 - weights[None, :]) ** 4)
        * np.log(10.0 * EWMA_WARNING_ALPHA)
    ) * scale
    expected, length, sigma, stat, previous = ewma_recursion(
        y, weights, B, EWMA_MIN_BASELINE_DAYS, g, t_alert, floor, constant, int(idx[-1])
    )
    expected, size = expected[idx], length[idx]
    sigma, stat, previous = sigma[idx], stat[idx], previous[idx]
    if np.any(size < 2):
        raise DetectorParameterError("range: a baseline of at least two days is needed")
    pvalues = special.stdtr((size - 1)[:, None], -stat)  # upper tail of Student's t
    # Rnssp keeps the gradual weight only when its p-value is strictly smaller.
    pick = np.where(pvalues[:, 0] < pvalues[:, 1], 0, 1)
    rows = np.arange(idx.shape[0])
    pvalue = pvalues[rows, pick]
    critical = t_critical[size]
    # y alarms under weight w iff w*y + (1-w)*z_prev > expected + critical*sigma.
    bounds = (expected[:, None] + critical[:, None] * sigma - (1.0 - weights[None, :]) * previous) / weights[
        None, :
    ]
    return build_result(
        "ewma",
        y,
        idx,
        expected=expected,
        threshold=bounds.min(axis=1),
        score=stat[rows, pick],
        alarm=pvalue < alpha,
        pvalue=pvalue,
        params={"B": B, "g": g, "w1": float(weights[0]), "w2": float(weights[1]), "alpha": alpha},
    )
