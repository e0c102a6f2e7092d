"""The Bayes system of the RKI, as R ``surveillance::algo.bayes`` 1.20.3.

Definitions and defaults: reference/surveillance/ALGORITHMS.md section 2, "Bayes". With ``n``
reference values summing to ``s`` (see ``_history``), the bound is the ``1 - alpha`` quantile of the
Poisson-gamma predictive distribution, a negative binomial with size ``s + 1/2`` and probability
``n / (n + 1)``. The time point alarms when ``observed > threshold``: R's source reads ``>=``, but
the 1.20.3 reference outputs (reference/surveillance/ha_total_bayes*_209-290.csv) show counts equal
to the bound not alarming, and the port follows the outputs.

Presets (R ``algo.bayes1/2/3``, all ``alpha = 0.05``): ``bayes1`` b=0, w=6, actY=True;
``bayes2`` b=1, w=6, actY=True; ``bayes3`` b=2, w=4, actY=False. Explicit parameters override the
preset's. ``freq`` is 52 for weekly data (a year back is 52 weeks, as R) and 365 for daily data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from fangkong.analytics.detection._common import (
    RangeSpec,
    as_counts,
    build_result,
    check_choice,
    check_probability,
    exceedance_score,
    resolve_range,
)
from fangkong.analytics.detection._history import earliest_judgeable, reference_matrix, reference_offsets
from fangkong.analytics.detection.base import DetectionResult, FloatArray

BAYES_ALPHA = 0.05
"""one-sided error rate of the predictive bound; R algo.bayes default (all three presets)."""

BAYES_FREQ = 52
"""time points a year; R ``disProg`` default ``freq = 52`` (weekly)."""

BAYES_PRIOR_SHAPE = 0.5
"""added to the reference sum: the gamma prior of R algo.bayes (``qnbinom(.., sum + 1/2, ..)``)."""

R_QUANTILE_FUZZ = 1.0 - 64.0 * np.finfo(np.float64).eps
"""R's qnbinom lowers p by this factor so a cdf equal to p up to rounding still counts (nmath/qnbinom.c)."""

BayesPreset = Literal["bayes1", "bayes2", "bayes3"]
BAYES_PRESETS: dict[str, tuple[int, int, bool]] = {
    "bayes1": (0, 6, True),  # (b years back, w half-window, actY); R algo.bayes1
    "bayes2": (1, 6, True),  # R algo.bayes2
    "bayes3": (2, 4, False),  # R algo.bayes3
}


def bayes(
    observed: npt.ArrayLike,
    *,
    preset: BayesPreset = "bayes1",
    b: int | None = None,
    w: int | None = None,
    actY: bool | None = None,
    alpha: float = BAYES_ALPHA,
    freq: int = BAYES_FREQ,
    range: RangeSpec = None,
) -> DetectionResult:
    """Bayes detector over ``range`` (0-based; default: every point with a full reference set).

    ``expected`` is the predictive mean ``(s + 1/2) / n``, ``pvalue`` the predictive probability of
    a count at least as high as the one observed (the point alarms iff ``pvalue <= alpha``), and
    ``score`` the exceedance ``(y - expected) / (threshold - expected)``.
    """
    y = as_counts(observed)
    preset_name = check_choice("preset", preset, BAYES_PRESETS)
    pb, pw, pact = BAYES_PRESETS[preset_name]
    b_used = pb if b is None else b
    w_used = pw if w is None else w
    act_used = pact if actY is None else bool(actY)
    alpha = check_probability("alpha", alpha)
    offsets = reference_offsets(b_used, w_used, act_used, freq)
    idx = resolve_range(range, y.shape[0], earliest_judgeable(offsets))
    ref = reference_matrix(y, idx, offsets)
    total = ref.sum(axis=1)
    count = float(offsets.shape[0])
    size = total + BAYES_PRIOR_SHAPE
    prob = count / (count + 1.0)
    upper = negbin_quantile(1.0 - alpha, size, prob)
    values = y[idx]
    expected = size / count
    # P(Y >= y) = 1 - I_prob(size, y) = I_(1-prob)(y, size), the form scipy evaluates fastest.
    counts = np.ceil(values)
    tail = special.betainc(np.maximum(counts, 1.0), size, 1.0 - prob)
    pvalue = np.where(counts <= 0, 1.0, tail)
    return build_result(
        "bayes",
        y,
        idx,
        expected=expected,
        threshold=upper,
        score=exceedance_score(values, expected, upper),
        alarm=values > upper,
        pvalue=pvalue,
        params={
            "preset": preset_name,
            "b": b_used,
            "w": w_used,
            "actY": act_used,
            "alpha": alpha,
            "freq": freq,
        },
    )


def negbin_quantile(p: float, size: FloatArray, prob: float) -> FloatArray:
    """Smallest count ``q`` with ``P(Y <= q) >= p`` for ``Y ~ NB(size, prob)``, counting failures.

    Like R's ``qnbinom``: start from the normal approximation and step to the exact answer on the
    cdf ``P(Y <= q) = I_prob(size, q + 1)``, with R's fuzz on ``p``; vectorised over ``size``.
    """
    target = p * R_QUANTILE_FUZZ
    mean = size * (1.0 - prob) / prob
    guess = np.floor(mean + special.ndtri(p) * np.sqrt(mean / prob))
    q = np.maximum(guess, 0.0)
    # Each step re-evaluates only the entries still moving (the others are settled).
    moving = np.flatnonzero(q > 0)
    while moving.size:
        too_high = special.betainc(size[moving], q[moving], prob) >= target  # P(Y <= q - 1) enough
        moving = moving[too_high]
        q[moving] -= 1.0
        moving = moving[q[moving] > 0]
    moving = np.arange(q.shape[0])
    while moving.size:
        too_low = special.betainc(size[moving], q[moving] + 1.0, prob) < target
        moving = moving[too_low]
        q[moving] += 1.0
    quantile: FloatArray = q
    return quantile
