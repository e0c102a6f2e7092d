"""The RKI (Robert Koch Institute) system, as R ``surveillance::algo.rki`` 1.20.3.

Definitions and defaults: reference/surveillance/ALGORITHMS.md section 2, "RKI". The reference set
is built as for Bayes (see ``_history``). With its mean ``mu``: above 20 the bound is
``mu + 2 sd`` (n - 1 divisor); otherwise it is the 95 % Crow-Gardner upper limit for the count
``floor(mu)`` (``poisson_ci``, computed, R's ``CIdata`` table). The point alarms when
``observed > threshold``.

Presets (R ``algo.rki1/2/3``): ``rki1`` b=0, w=6, actY=True; ``rki2`` b=1, w=6, actY=True;
``rki3`` b=2, w=4, actY=False, which are also R's ``algo.rki`` defaults. Explicit parameters
override the preset's.
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
    exceedance_score,
    resolve_range,
)
from fangkong.analytics.detection._history import earliest_judgeable, reference_matrix, reference_offsets
from fangkong.analytics.detection.base import DetectionResult
from fangkong.analytics.detection.poisson_ci import upper_limit_table

RKI_NORMAL_ABOVE = 20.0
"""mean count above which the normal bound replaces the Poisson table; R algo.rki."""

RKI_SD_MULTIPLIER = 2.0
"""standard deviations above the mean for the normal bound; R algo.rki (``mu + 2 * sigma``)."""

RKI_FREQ = 52
"""time points a year; R ``disProg`` default ``freq = 52`` (weekly)."""

RkiPreset = Literal["rki1", "rki2", "rki3"]
RKI_PRESETS: dict[str, tuple[int, int, bool]] = {
    "rki1": (0, 6, True),  # (b years back, w half-window, actY); R algo.rki1
    "rki2": (1, 6, True),  # R algo.rki2
    "rki3": (2, 4, False),  # R algo.rki3, also algo.rki's defaults
}


def rki(
    observed: npt.ArrayLike,
    *,
    preset: RkiPreset = "rki3",
    b: int | None = None,
    w: int | None = None,
    actY: bool | None = None,
    freq: int = RKI_FREQ,
    range: RangeSpec = None,
) -> DetectionResult:
    """RKI detector over ``range`` (0-based; default: every point with a full reference set).

    ``expected`` is the reference mean; ``score`` the exceedance ``(y - mean) / (threshold - mean)``.
    """
    y = as_counts(observed)
    preset_name = check_choice("preset", preset, RKI_PRESETS)
    pb, pw, pact = RKI_PRESETS[preset_name]
    b_used = pb if b is None else b
    w_used = pw if w is None else w
    act_used = pact if actY is None else bool(actY)
    offsets = reference_offsets(b_used, w_used, act_used, freq)
    idx = resolve_range(range, y.shape[0], earliest_judgeable(offsets))
    ref = reference_matrix(y, idx, offsets)
    mean = ref.mean(axis=1)
    normal = mean > RKI_NORMAL_ABOVE
    upper = np.empty_like(mean)
    if np.any(normal):
        upper[normal] = mean[normal] + RKI_SD_MULTIPLIER * ref[normal].std(axis=1, ddof=1)
    if np.any(~normal):
        table = upper_limit_table(int(RKI_NORMAL_ABOVE))
        upper[~normal] = table[np.floor(mean[~normal]).astype(np.int64)]
    values = y[idx]
    return build_result(
        "rki",
        y,
        idx,
        expected=mean,
        threshold=upper,
        score=exceedance_score(values, mean, upper),
        alarm=values > upper,
        params={"preset": preset_name, "b": b_used, "w": w_used, "actY": act_used, "freq": freq},
    )
