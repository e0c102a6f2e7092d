"""EARS C1, C2 and C3 (CDC Early Aberration Reporting System), as R ``surveillance::earsC`` 1.20.3.

Definitions and defaults: reference/surveillance/ALGORITHMS.md section 2, "EARS C1/C2/C3".

* C1 compares today with the mean and standard deviation (n - 1 divisor) of the ``baseline`` days
  just before it; C2 does the same with a two-day guard band between baseline and today.
* C3 sums the positive parts of ``S - 1`` of the C2 statistic ``S`` over three days. Two rules exist:

  - ``rule="r"`` (default): what R ``earsC`` computes. The bound is
    ``max(0, y_t + sd_t * (z - A_t))`` with ``A_t = max(0, S_{t-2} - 1) + max(0, S_{t-1} - 1)``, so it
    alarms iff ``A_t > z`` and ``y_t > 0``; today's own statistic is not used. The reference outputs
    follow this rule.
  - ``rule="textbook"``: the published rule (Hutwagner et al. 2003; R documentation):
    ``C3_t = sum_{i=t-2..t} max(0, S_i - 1)`` and alarm iff ``C3_t > z``. Its count bound is
    ``mean_t + sd_t * (1 + z - A_t)``; when ``A_t > z`` every count alarms and the bound is ``-inf``.

``z = qnorm(1 - alpha)`` (one-sided, as R's code, although its documentation says two-sided).
Time points are 0-based: C1 can judge from index ``baseline``, C2 from ``baseline + 2``, C3 from
``baseline + 4``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy import special

from fangkong.analytics.detection._common import (
    IntArray,
    RangeSpec,
    as_series,
    build_result,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    resolve_range,
)
from fangkong.analytics.detection.base import DetectionResult, FloatArray

EARS_BASELINE_DAYS = 7
"""time points in the reference window; R earsC default ``baseline = 7``."""

EARS_MIN_BASELINE = 3
"""time points; R earsC refuses a shorter baseline ("Minimum baseline to use is 3")."""

EARS_GUARD_DAYS = 2
"""time points between the C2/C3 reference window and the day judged (R earsC, C2 reference lags 3..9)."""

EARS_MIN_SIGMA = 0.0
"""counts; floor on the standard deviation, R earsC default ``minSigma = 0`` (Burkom suggests 0.5 or 1
for sparse data, R documentation)."""

EARS_ALPHA_C1_C2 = 0.001
"""one-sided error rate for C1 and C2, R earsC default; ``qnorm(0.999) = 3.09`` (CDC used 3)."""

EARS_ALPHA_C3 = 0.025
"""one-sided error rate for C3, R earsC default; ``qnorm(0.975) = 1.96`` (CDC used 2)."""

C3Rule = Literal["r", "textbook"]


def _window_stats(y: FloatArray, baseline: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sd (n - 1 divisor) of every window ``y[j : j + baseline]``, indexed by ``j``."""
    windows = sliding_window_view(y, baseline)
    return windows.mean(axis=1), windows.std(axis=1, ddof=1)


def _reference_stats(y: FloatArray, t: IntArray, baseline: int, lag: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sd of ``y[t - lag - baseline + 1 : t - lag + 1]`` for every ``t``."""
    mean, sd = _window_stats(y, baseline)
    start = t - lag - baseline + 1
    return mean[start], sd[start]


def _checked(alpha: float, baseline: int, minSigma: float) -> tuple[float, int, float]:
    a = check_probability("alpha", alpha)
    b = check_int("baseline", baseline, EARS_MIN_BASELINE)
    s = check_positive("minSigma", minSigma, allow_zero=True)
    return a, b, s


def _c1_c2(
    method: str,
    observed: npt.ArrayLike,
    alpha: float,
    baseline: int,
    minSigma: float,
    range_spec: RangeSpec,
    first_lag: int,
) -> DetectionResult:
    y = as_series(observed)
    alpha, baseline, minSigma = _checked(alpha, baseline, minSigma)
    idx = resolve_range(range_spec, y.shape[0], baseline + first_lag - 1)
    z = float(special.ndtri(1.0 - alpha))
    mean, sd = _reference_stats(y, idx, baseline, first_lag)
    sigma = np.maximum(sd, minSigma)
    upper = mean + z * sigma
    values = y[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (values - mean) / sigma
    return build_result(
        method,
        y,
        idx,
        expected=mean,
        threshold=upper,
        score=score,
        alarm=values > upper,
        pvalue=special.ndtr(-score),
        params={"alpha": alpha, "baseline": baseline, "minSigma": minSigma},
    )


def ears_c1(
    observed: npt.ArrayLike,
    *,
    alpha: float = EARS_ALPHA_C1_C2,
    baseline: int = EARS_BASELINE_DAYS,
    minSigma: float = EARS_MIN_SIGMA,
    range: RangeSpec = None,
) -> DetectionResult:
    """EARS C1: reference window is the ``baseline`` time points right before the one judged.

    ``score`` is ``(y - mean) / sd`` and ``pvalue`` its one-sided normal tail.
    """
    return _c1_c2("ears_c1", observed, alpha, baseline, minSigma, range, first_lag=1)


def ears_c2(
    observed: npt.ArrayLike,
    *,
    alpha: float = EARS_ALPHA_C1_C2,
    baseline: int = EARS_BASELINE_DAYS,
    minSigma: float = EARS_MIN_SIGMA,
    range: RangeSpec = None,
) -> DetectionResult:
    """EARS C2: as C1, with a two-time-point guard band (reference lags 3 .. baseline + 2)."""
    return _c1_c2("ears_c2", observed, alpha, baseline, minSigma, range, first_lag=EARS_GUARD_DAYS + 1)


def ears_c3(
    observed: npt.ArrayLike,
    *,
    alpha: float = EARS_ALPHA_C3,
    baseline: int = EARS_BASELINE_DAYS,
    minSigma: float = EARS_MIN_SIGMA,
    rule: C3Rule = "r",
    range: RangeSpec = None,
) -> DetectionResult:
    """EARS C3 with either R's rule (default) or the textbook rule; see the module docstring.

    ``score`` is ``A_t`` (the two lagged terms) under ``rule="r"``, which alarms iff it exceeds ``z``
    and the count is positive, and the full three-day ``C3_t`` under ``rule="textbook"``.
    """
    y = as_series(observed)
    alpha, baseline, minSigma = _checked(alpha, baseline, minSigma)
    rule_name = check_choice("rule", rule, ("r", "textbook"))
    lag = EARS_GUARD_DAYS + 1
    idx = resolve_range(range, y.shape[0], baseline + lag - 1 + 2)
    z = float(special.ndtri(1.0 - alpha))
    # The C2 statistic is needed at t-2, t-1 and t for every judged t.
    span = np.unique(np.concatenate([idx - 2, idx - 1, idx]))
    mean, sd = _reference_stats(y, span, baseline, lag)
    sigma = np.maximum(sd, minSigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_all = (y[span] - mean) / sigma
    # span is sorted and holds t-2, t-1, t together, so their positions are consecutive.
    at = np.searchsorted(span, idx)
    # np.maximum propagates NaN like R's pmax, so a zero-variance lag leaves the point undecided.
    excess = np.maximum(0.0, s_all - 1.0)
    lagged = excess[at - 2] + excess[at - 1]
    values = y[idx]
    mean_t, sigma_t = mean[at], sigma[at]
    with np.errstate(invalid="ignore"):
        if rule_name == "r":
            upper = np.maximum(0.0, values + sigma_t * (z - lagged))
            alarm = values > upper
            score = lagged
        else:
            score = lagged + excess[at]
            alarm = score > z
            upper = np.where(lagged > z, -np.inf, mean_t + sigma_t * (1.0 + z - lagged))
    return build_result(
        "ears_c3",
        y,
        idx,
        expected=mean_t,
        threshold=upper,
        score=score,
        alarm=alarm,
        params={"alpha": alpha, "baseline": baseline, "minSigma": minSigma, "rule": rule_name},
    )
