"""Reference values from the recent past and the same season of past years (Bayes and RKI systems).

For a time point ``t`` (0-based) the reference set is, as R ``algo.bayesLatestTimepoint`` and
``algo.rkiLatestTimepoint`` build it: the ``w`` points just before ``t`` when ``actY`` is true, plus
for each of the ``b`` previous years the ``2w + 1`` points centred on ``t - i * freq``. All sets are
gathered at once as a matrix (one row per judged time point) so no loop runs over time points.
"""

from __future__ import annotations

import numpy as np

from fangkong.analytics.detection._common import IntArray, check_int
from fangkong.analytics.detection.base import DetectorParameterError, FloatArray


def reference_offsets(b: int, w: int, actY: bool, freq: int) -> IntArray:
    """Offsets (negative, relative to ``t``) of the reference set, in R's order."""
    b = check_int("b", b, 0)
    w = check_int("w", w, 0)
    freq = check_int("freq", freq, 1)
    parts = []
    if actY:
        if w == 0:
            raise DetectorParameterError(
                "w: with actY the current year contributes w points, so w must be at least 1"
            )
        parts.append(np.arange(-w, 0))
    for i in np.arange(1, b + 1):
        parts.append(np.arange(-i * freq - w, -i * freq + w + 1))
    if not parts:
        raise DetectorParameterError("b: with actY false at least one past year (b >= 1) is needed")
    return np.concatenate(parts).astype(np.int64)


def reference_matrix(y: FloatArray, t: IntArray, offsets: IntArray) -> FloatArray:
    """``y[t + offset]`` for every judged ``t`` (rows) and every offset (columns)."""
    values: FloatArray = y[t[:, None] + offsets[None, :]]
    return values


def earliest_judgeable(offsets: IntArray) -> int:
    """The first 0-based index whose whole reference set lies inside the series."""
    return int(-offsets.min())
