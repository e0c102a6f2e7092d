"""Compiled recursion of the ESSENCE EWMA detector (see ``ewma.py``).

The smoothed values are clipped back to the alert limit whenever they pass it, so each step depends
on the clipped previous one: a loop over time points, compiled with numba.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def ewma_recursion(
    y: np.ndarray,
    weights: np.ndarray,
    max_baseline: int,
    min_baseline: int,
    guard: int,
    ucl_alert: np.ndarray,
    sigma_floor: np.ndarray,
    sigma_constant: np.ndarray,
    last: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expected value, baseline length, per-weight sigma, statistic and previous smoothed value.

    ``ucl_alert``, ``sigma_floor`` and ``sigma_constant`` are indexed by baseline length (rows) and
    weight (columns of the last two). Only time points up to ``last`` are computed.
    """
    n = y.shape[0]
    n_w = weights.shape[0]
    expected = np.full(n, np.nan)
    length = np.zeros(n, dtype=np.int64)
    sigma = np.full((n, n_w), np.nan)
    stat = np.full((n, n_w), np.nan)
    previous = np.full((n, n_w), np.nan)
    smooth = np.empty(n_w)
    for j in range(n_w):
        smooth[j] = y[0]
    first = min_baseline + guard
    for i in range(1, min(first, last + 1)):
        for j in range(n_w):
            smooth[j] = weights[j] * y[i] + (1.0 - weights[j]) * smooth[j]
    for i in range(first, last + 1):
        stop = i - guard
        start = max(0, stop - max_baseline)
        size = stop - start
        total = 0.0
        for t in range(start, stop):
            total += y[t]
        mean = total / size
        squares = 0.0
        for t in range(start, stop):
            squares += (y[t] - mean) ** 2
        sd = math.sqrt(squares / (size - 1))
        expected[i] = mean
        length[i] = size
        for j in range(n_w):
            w = weights[j]
            correction = math.sqrt(
                w / (2.0 - w)
                + 1.0 / size
                - 2.0 * (1.0 - w) ** (guard + 1) * ((1.0 - (1.0 - w) ** size) / size)
            )
            s = max(sigma_floor[size, j], sd * correction + sigma_constant[size, j])
            previous[i, j] = smooth[j]
            smooth[j] = w * y[i] + (1.0 - w) * smooth[j]
            z = (smooth[j] - mean) / s
            sigma[i, j] = s
            stat[i, j] = z
            limit = ucl_alert[size]
            if abs(z) > limit:
                smooth[j] = mean + math.copysign(limit, z) * s
    return expected, length, sigma, stat, previous
