"""Compiled loops of the space-time permutation scan: cylinder log-likelihood ratios and their maximum.

Inputs are prepared by :mod:`fangkong.analytics.detection.stscan`: ``recent[a, d]`` is the number of
cases of area ``a`` in the last ``d + 1`` days, ``area_total[a]`` its cases over the whole study,
``recent_total[d]`` all cases in the last ``d + 1`` days, and each candidate zone is a prefix of
``order[i, :]`` (areas by distance from centre ``i``) of a length marked in ``complete[i, :]``.
Because expected counts are products of the margins, a cylinder's expectation is
``zone_total * recent_total[d] / total`` and needs no per-cell sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True, error_model="numpy")(fn))


def _jit_parallel(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, parallel=True, error_model="numpy")(fn))


@_jit
def poisson_llr(observed: float, expected: float, total: float) -> float:
    """Log-likelihood ratio of a cylinder; 0 unless it holds more cases than expected (high rates only)."""
    if observed <= expected:
        return 0.0
    llr = observed * math.log(observed / expected)
    rest = total - observed
    if rest > 0.0:
        llr += rest * math.log(rest / (total - expected))
    return llr


@_jit
def scan_zones(
    recent: FloatArray,
    area_total: FloatArray,
    recent_total: FloatArray,
    total: float,
    order: IntArray,
    zone_len: IntArray,
    complete: BoolArray,
    min_cases: float,
    best_llr: FloatArray,
    best_days: IntArray,
) -> float:
    """Best window of every candidate zone, written to ``best_llr[i, j]`` / ``best_days[i, j]``.

    Returns the largest LLR over all cylinders (0 when none has more cases than expected).
    """
    n_centres = order.shape[0]
    n_days = recent.shape[1]
    in_zone = np.zeros(n_days)
    top = 0.0
    for i in range(n_centres):
        in_zone[:] = 0.0
        zone_cases = 0.0
        for j in range(zone_len[i]):
            a = order[i, j]
            zone_cases += area_total[a]
            for d in range(n_days):
                in_zone[d] += recent[a, d]
            best = 0.0
            best_d = -1
            if complete[i, j]:
                for d in range(n_days):
                    c = in_zone[d]
                    if c < min_cases:
                        continue
                    llr = poisson_llr(c, zone_cases * recent_total[d] / total, total)
                    if llr > best:
                        best = llr
                        best_d = d
            best_llr[i, j] = best
            best_days[i, j] = best_d
            top = max(top, best)
    return top


@_jit
def max_llr(
    recent: FloatArray,
    area_total: FloatArray,
    recent_total: FloatArray,
    total: float,
    order: IntArray,
    zone_len: IntArray,
    complete: BoolArray,
    min_cases: float,
) -> float:
    """Largest cylinder LLR, without keeping the per-zone detail (for Monte Carlo replicates)."""
    n_days = recent.shape[1]
    in_zone = np.zeros(n_days)
    top = 0.0
    for i in range(order.shape[0]):
        in_zone[:] = 0.0
        zone_cases = 0.0
        for j in range(zone_len[i]):
            a = order[i, j]
            zone_cases += area_total[a]
            for d in range(n_days):
                in_zone[d] += recent[a, d]
            if not complete[i, j]:
                continue
            for d in range(n_days):
                c = in_zone[d]
                if c < min_cases:
                    continue
                top = max(top, poisson_llr(c, zone_cases * recent_total[d] / total, total))
    return top


@_jit_parallel
def replicate_max_llr(
    late_areas: IntArray,
    late_day_start: IntArray,
    n_areas: int,
    area_total: FloatArray,
    recent_total: FloatArray,
    total: float,
    order: IntArray,
    zone_len: IntArray,
    complete: BoolArray,
    min_cases: float,
    out: FloatArray,
) -> None:
    """Max LLR of each replicate; row r of ``late_areas`` lists the areas of the cases given recent days.

    Cases ``late_day_start[d] : late_day_start[d + 1]`` of a row fall ``d`` days before the last day.
    """
    n_days = late_day_start.shape[0] - 1
    for r in numba.prange(late_areas.shape[0]):
        recent = np.zeros((n_areas, n_days))
        for d in range(n_days):
            for q in range(late_day_start[d], late_day_start[d + 1]):
                recent[late_areas[r, q], d] += 1.0
        for a in range(n_areas):
            for d in range(1, n_days):
                recent[a, d] += recent[a, d - 1]
        out[r] = max_llr(recent, area_total, recent_total, total, order, zone_len, complete, min_cases)
