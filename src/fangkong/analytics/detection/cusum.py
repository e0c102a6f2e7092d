"""Poisson CUSUM of standardised counts, as R ``surveillance::algo.cusum`` 1.20.3 (Rossi et al. 1999).

Definitions and defaults: reference/surveillance/ALGORITHMS.md section 2, "CUSUM".

The in-control mean ``m`` comes from the time points before monitoring starts ("phase 1", indices
``0 .. range[0] - 1``): their mean (``m=None``), a seasonal Poisson GLM
``y ~ 1 + cos(2 pi t / freq) + sin(2 pi t / freq)`` predicted over the range (``m="glm"``), or a number.
Each count is standardised (``trans``), the chart is ``S_t = max(0, S_{t-1} + z_t - k)`` from
``S = 0`` before the first monitored point, without reset after an alarm (as 1.20.3), and alarms
when ``S_t >= h``. ``threshold`` is R's ``upperbound``: the count that would have raised the alarm
given ``S_{t-1}`` (rounded up for ``trans="standard"``, floored at 0).

``range`` is 0-based and must be consecutive. Without it, the first year (``freq`` time points) is
phase 1, or the first half of the series when it is shorter than a year and a day.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection._common import (
    RangeSpec,
    as_counts,
    build_result,
    check_choice,
    check_int,
    check_positive,
    require_contiguous,
    resolve_range,
)
from fangkong.analytics.detection._seasonal_glm import fit_log_glm, log_link_mean, seasonal_design
from fangkong.analytics.detection.base import DetectionResult, DetectorParameterError, FloatArray

CUSUM_K = 1.04
"""reference value, in standardised units; R algo.cusum default ``k = 1.04``."""

CUSUM_H = 2.26
"""decision interval, in standardised units; R algo.cusum default ``h = 2.26``."""

CUSUM_NB_ALPHA = 0.1
"""NB dispersion used by ``trans="pearsonNegBin"`` only; R algo.cusum default ``alpha = 0.1``."""

CUSUM_FREQ = 52
"""time points a year for the ``m="glm"`` seasonal terms; R ``disProg`` default ``freq = 52``."""

GLM_SEASONAL_TERMS = 3
"""coefficients of the ``m="glm"`` model (intercept, cos, sin), so phase 1 needs at least 4 points."""

Transform = Literal["standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none"]
TRANSFORMS = ("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")


def default_phase1_length(n: int, freq: int) -> int:
    """A year of history when there is more than a year, else the first half of the series."""
    return freq if n > freq else max(1, n // 2)


def _standardise(x: FloatArray, m: FloatArray, trans: str, alpha: float) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if trans == "rossi":
            return (x - 3.0 * m + 2.0 * np.sqrt(x * m)) / (2.0 * np.sqrt(m))
        if trans == "standard":
            return (x - m) / np.sqrt(m)
        if trans == "anscombe":
            return 1.5 * (x ** (2.0 / 3.0) - m ** (2.0 / 3.0)) / m ** (1.0 / 6.0)
        if trans == "anscombe2nd":
            return (x ** (2.0 / 3.0) - (m ** (2.0 / 3.0) - m ** (-1.0 / 3.0) / 9.0)) / (
                2.0 / 3.0 * m ** (1.0 / 6.0)
            )
        if trans == "pearsonNegBin":
            return (x - m) / np.sqrt(m + alpha * m**2)
        return x.copy()


def _upper_bound(
    m: FloatArray, s_prev: FloatArray, s_now: FloatArray, trans: str, k: float, h: float, alpha: float
) -> FloatArray:
    """The count that would make ``S_t`` reach ``h`` given ``S_{t-1}``: R's back-transformed bound."""
    room = h + k - s_prev
    with np.errstate(invalid="ignore"):
        if trans == "rossi":
            root = m ** (1.5)
            bound = (
                2.0 * h * np.sqrt(m)
                + 2.0 * k * np.sqrt(m)
                - 2.0 * s_prev * np.sqrt(m)
                + 5.0 * m
                - 2.0 * np.sqrt(4.0 * m**2 + 2.0 * root * h + 2.0 * root * k - 2.0 * root * s_prev)
            )
        elif trans == "standard":
            bound = np.ceil(np.sqrt(m) * room + m)
        elif trans == "anscombe":
            base = 2.0 / 3.0 * m ** (1.0 / 6.0) * room + m ** (2.0 / 3.0)
            bound = np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        elif trans == "anscombe2nd":
            base = 2.0 / 3.0 * m ** (1.0 / 6.0) * room + (m ** (2.0 / 3.0) - m ** (1.0 / 3.0) / 9.0)
            bound = np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        elif trans == "pearsonNegBin":
            bound = np.sqrt(m + alpha * m**2) * room + m
        else:
            bound = h - s_now
    bound = np.where(np.isnan(bound), 0.0, bound)
    return np.maximum(bound, 0.0)


def cusum(
    observed: npt.ArrayLike,
    *,
    k: float = CUSUM_K,
    h: float = CUSUM_H,
    m: float | str | None = None,
    trans: Transform = "standard",
    alpha: float = CUSUM_NB_ALPHA,
    freq: int = CUSUM_FREQ,
    range: RangeSpec = None,
) -> DetectionResult:
    """CUSUM over ``range`` (0-based, consecutive); see the module docstring for ``m`` and ``trans``.

    ``expected`` is the in-control mean ``m`` and ``score`` the CUSUM ``S_t``.
    """
    y = as_counts(observed)
    n = y.shape[0]
    k = check_positive("k", k, allow_zero=True)
    h = check_positive("h", h)
    alpha = check_positive("alpha", alpha, allow_zero=True)
    freq = check_int("freq", freq, 1)
    trans_name = check_choice("trans", trans, TRANSFORMS)
    if isinstance(m, str) and m != "glm":
        raise DetectorParameterError(
            f"m: must be a number, 'glm' or left out for the phase-1 mean; got {m!r}"
        )
    needs_phase1 = m is None or m == "glm"
    first = (GLM_SEASONAL_TERMS + 1 if m == "glm" else 1) if needs_phase1 else 0
    if range is None and needs_phase1:
        idx = resolve_range(None, n, max(first, default_phase1_length(n, freq)))
    else:
        idx = resolve_range(range, n, first)
    require_contiguous(idx)
    start = int(idx[0])
    if m is None:
        mean = np.full(idx.shape[0], float(np.mean(y[:start])))
    elif m == "glm":
        train_t = np.arange(1, start + 1, dtype=np.float64)
        beta = fit_log_glm(seasonal_design(train_t, freq, 1, False), y[:start])
        mean = log_link_mean(seasonal_design(idx.astype(np.float64) + 1.0, freq, 1, False) @ beta)
    else:
        mean = np.full(idx.shape[0], check_positive("m", float(m)))
    x = y[idx]
    z = _standardise(x, mean, trans_name, alpha)
    # Lindley's identity: S_t = C_t - min(0, C_1..C_t) for C the running sum of z - k, i.e. the
    # recursion max(0, S_{t-1} + z_t - k) from S_0 = 0, without a loop over time points.
    running = np.cumsum(z - k)
    chart = running - np.minimum(np.minimum.accumulate(running), 0.0)
    s_prev = np.concatenate([[0.0], chart[:-1]])
    upper = _upper_bound(mean, s_prev, chart, trans_name, k, h, alpha)
    return build_result(
        "cusum",
        y,
        idx,
        expected=mean,
        threshold=upper,
        score=chart,
        alarm=chart >= h,
        params={"k": k, "h": h, "m": m, "trans": trans_name, "alpha": alpha, "freq": freq},
    )
