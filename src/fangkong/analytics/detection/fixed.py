"""Fixed threshold ("single case") detection: alarm as soon as the count reaches a set number.

CIDARS handles plague, cholera, SARS, polio, human highly pathogenic avian influenza, pulmonary
anthrax and pneumonia of unknown cause this way: one reported case is a signal (WPSAR 2011;2(1):10-15,
see reference/surveillance/ALGORITHMS.md section 1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection._common import (
    RangeSpec,
    as_series,
    build_result,
    check_positive,
    resolve_range,
)
from fangkong.analytics.detection.base import DetectionResult

FIXED_THRESHOLD_CASES = 1.0
"""cases per time point; one case of a single-case disease is a signal (CIDARS, WPSAR 2011)."""


def fixed(
    observed: npt.ArrayLike,
    *,
    threshold: float = FIXED_THRESHOLD_CASES,
    range: RangeSpec = None,
) -> DetectionResult:
    """Alarm wherever ``observed >= threshold``.

    ``expected`` is undefined (NaN); ``score`` is the observed count itself, so ``score >= threshold``
    is the alarm rule. Every time point is judged unless ``range`` (0-based) says otherwise.
    """
    y = as_series(observed)
    level = check_positive("threshold", threshold)
    idx = resolve_range(range, y.shape[0], 0)
    values = y[idx]
    return build_result(
        "fixed",
        y,
        idx,
        expected=np.full(idx.shape[0], np.nan),
        threshold=np.full(idx.shape[0], level),
        score=values.copy(),
        alarm=values >= level,
        params={"threshold": level},
    )
