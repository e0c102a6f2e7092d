"""Compiled kernels of the GLR and LR charts, following the C routines of R ``surveillance`` 1.20.3.

Each chart function runs from the first time point of the (remaining) series until the first alarm
and returns ``(N, statistic, cases)`` where ``N`` is the **1-based** position of the alarm, or
``len(x) + 1`` when there is none, exactly as the C routines report it to R; ``algo.glrnb`` then
restarts the chart after the alarm (see ``glrnb.py``). The numerical steps (Newton-Raphson start
values, tolerances, the order of the loops) are kept as in the C code so the statistics agree with R
to rounding, not just approximately.
"""

from __future__ import annotations

import math

import numba
import numpy as np

NEWTON_TOLERANCE = 1e-6
"""stop Newton-Raphson on kappa when a step is smaller than this; R surveillance.c glr_nb_window."""

NEWTON_MAX_ITERATIONS = 1000
"""Newton-Raphson iteration cap; R surveillance.c (``maxIter = 1e3``)."""

NEWTON_FLOOR = -18.0
"""stop Newton-Raphson once kappa falls below this (a vanishing rate); R surveillance.c."""

NEWTON_START = 0.5
"""start value of the first kappa search at each time point; R surveillance.c."""

NEWTON_PREVIOUS = 0.4
"""dummy "previous" kappa that makes the first Newton step run; R surveillance.c."""

NO_ALARM_CASES = 1e99
"""what R reports as the alarm-raising count when none up to ``xMax`` would raise one."""


@numba.njit(cache=True)
def _fmax(a: float, b: float) -> float:
    # C's fmax returns the other argument when one is NaN; Python's max does not.
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return a if a > b else b


@numba.njit(cache=True)
def _pois_glr(n: int, x: np.ndarray, mu0: np.ndarray, direction: int) -> float:
    """max over change points k <= n of the Poisson log-likelihood ratio, kappa at its MLE."""
    sumx = 0.0
    summu0 = 0.0
    best = -1e99
    for k in range(n, -1, -1):
        sumx += x[k]
        summu0 += mu0[k]
        if summu0 > 0.0 and direction * (sumx - summu0) <= 0.0:
            # No change in the chart's direction: kappa is 0 and so is the ratio, exactly as below.
            value = 0.0
        else:
            kappa = direction * _fmax(0.0, direction * math.log(sumx / summu0))
            value = kappa * sumx + (1.0 - math.exp(kappa)) * summu0
        if value > best:
            best = value
    return best


@numba.njit(cache=True)
def _pois_glr_window(n: int, x: np.ndarray, mu0: np.ndarray, direction: int, M: int, Mtilde: int) -> float:
    """As ``_pois_glr`` over change points ``max(0, n - M) <= k <= n - Mtilde``."""
    best = -1e99
    sumx = 0.0
    summu0 = 0.0
    for j in range(n - Mtilde + 1, n + 1):
        sumx += x[j]
        summu0 += mu0[j]
    low = max(0, n - M)
    for k in range(n - Mtilde, low - 1, -1):
        sumx += x[k]
        summu0 += mu0[k]
        if summu0 > 0.0 and direction * (sumx - summu0) <= 0.0:
            # No change in the chart's direction: kappa is 0 and so is the ratio, exactly as below.
            value = 0.0
        else:
            kappa = direction * _fmax(0.0, direction * math.log(sumx / summu0))
            value = kappa * sumx + (1.0 - math.exp(kappa)) * summu0
        if value > best:
            best = value
    return best


@numba.njit(cache=True)
def glr_poisson(
    x: np.ndarray, mu0: np.ndarray, M: int, Mtilde: int, c_arl: float, direction: int, want_cases: bool
) -> tuple[int, np.ndarray, np.ndarray]:
    """R's ``glr_cusum`` (``M <= 0``) or ``glr_cusum_window`` (``M > 0``) for Poisson counts."""
    lx = x.shape[0]
    val = np.zeros(lx)
    cases = np.zeros(lx)
    windowed = M > 0
    n = Mtilde if windowed else max(0, Mtilde - 1)
    alarm_at = lx
    work = x.copy()
    while n < lx:
        if windowed:
            val[n] = _pois_glr_window(n, work, mu0, direction, M, Mtilde)
        else:
            val[n] = _pois_glr(n, work, mu0, direction)
        if want_cases:
            old = work[n]
            candidate = -1
            stat = c_arl - direction
            while direction * stat < c_arl * direction:
                candidate += 1
                work[n] = candidate
                if windowed:
                    stat = _pois_glr_window(n, work, mu0, direction, M, Mtilde)
                else:
                    stat = _pois_glr(n, work, mu0, direction)
            cases[n] = candidate
            work[n] = old
        if val[n] >= c_arl:
            alarm_at = n
            break
        n += 1
    return alarm_at + 1, val, cases


@numba.njit(cache=True)
def _nb_glr_at(
    n: int, x: np.ndarray, mu0: np.ndarray, alpha: float, M: int, Mtilde: int, direction: int
) -> float:
    """R's negative binomial GLR statistic at ``n`` (inner loops of ``glr_nb_window``)."""
    best = -1e99
    kappa_ml = NEWTON_START
    low = 0 if M == -1 else max(0, n - M)
    up = n - (Mtilde - 1)
    inv_alpha = 1.0 / alpha
    for k in range(low, up + 1):
        kappa_old = NEWTON_PREVIOUS
        kappa_new = kappa_ml
        iteration = 0
        while (
            kappa_new > NEWTON_FLOOR
            and abs(kappa_new - kappa_old) > NEWTON_TOLERANCE
            and (iteration < NEWTON_MAX_ITERATIONS)
        ):
            iteration += 1
            kappa_old = kappa_new
            rate = math.exp(kappa_old)
            score = 0.0
            fisher = 0.0
            for i in range(k, n + 1):
                denom = 1.0 + alpha * rate * mu0[i]
                score += (x[i] - rate * mu0[i]) / denom
                fisher += mu0[i] * (alpha * x[i] + 1.0) / (denom * denom)
            kappa_new = kappa_old + score / (rate * fisher)
        kappa_ml = direction * _fmax(0.0, direction * kappa_new)
        value = 0.0
        shift = math.exp(kappa_ml)
        for i in range(k, n + 1):
            value += kappa_ml * x[i] + (x[i] + inv_alpha) * math.log(
                (1.0 + alpha * mu0[i]) / (1.0 + alpha * mu0[i] * shift)
            )
        if value > best:
            best = value
    return best


@numba.njit(cache=True)
def glr_negbin(
    x: np.ndarray, mu0: np.ndarray, alpha: float, M: int, Mtilde: int, c_arl: float, direction: int
) -> tuple[int, np.ndarray]:
    """R's ``glr_nb_window``: the negative binomial GLR chart (``M = -1`` means no window)."""
    lx = x.shape[0]
    val = np.zeros(lx)
    n = max(Mtilde - 1, 0)
    alarm_at = lx
    while n < lx:
        val[n] = _nb_glr_at(n, x, mu0, alpha, M, Mtilde, direction)
        if val[n] >= c_arl:
            alarm_at = n
            break
        n += 1
    return alarm_at + 1, val


@numba.njit(cache=True)
def negbin_cases(
    x: np.ndarray,
    mu0: np.ndarray,
    alpha: float,
    M: int,
    Mtilde: int,
    c_arl: float,
    direction: int,
    alarm_n: int,
    x_max: int,
    from_zero: bool,
) -> np.ndarray:
    """The count at each position that would (first) raise the alarm, by R's brute-force search.

    R 1.20.3 (``algo.glrnb``, ``ret = "cases"`` with ``alpha > 0``) moves the count at each position
    up, one at a time, until the chart alarms there (or down from the alarm position until it stops
    alarming, reporting the last alarming count). Its loop only runs while the count is at least 1, so
    a count of 0 gets ``1e99``; ``from_zero`` lets the upward search start at 0 instead. The statistic
    at a position depends only on the counts up to it, so only that one is recomputed per try.
    """
    lx = x.shape[0]
    cases = np.zeros(lx)
    work = x.copy()
    for pos in range(min(lx, alarm_n)):
        got_alarm = alarm_n <= pos + 1
        step = -1 if got_alarm else 1
        changed = False
        floor = 0 if (from_zero and not got_alarm) else 1
        while not changed and work[pos] <= x_max and work[pos] >= floor:
            work[pos] += step
            stat = _nb_glr_at(pos, work, mu0, alpha, M, Mtilde, direction)
            if not got_alarm and stat >= c_arl:
                changed = True
                cases[pos] = work[pos]
            if got_alarm and stat < c_arl:
                changed = True
                cases[pos] = work[pos] + 1
        if not changed:
            cases[pos] = np.nan if got_alarm else NO_ALARM_CASES
        work[pos] = x[pos]
    return cases


@numba.njit(cache=True)
def lr_poisson(
    x: np.ndarray, mu0: np.ndarray, kappa: float, c_arl: float
) -> tuple[int, np.ndarray, np.ndarray]:
    """R's ``lr_cusum``: Poisson CUSUM for a known change ``kappa`` in the log rate."""
    lx = x.shape[0]
    val = np.zeros(lx)
    cases = np.zeros(lx)
    alarm_at = lx
    growth = math.exp(kappa) - 1.0
    for n in range(lx):
        step = kappa * x[n] + (1.0 - math.exp(kappa)) * mu0[n]
        previous = val[n - 1] if n > 0 else 0.0
        val[n] = _fmax(0.0, previous + step)
        cases[n] = (c_arl - previous + mu0[n] * growth) / kappa
        if val[n] > c_arl:
            alarm_at = n
            break
    return alarm_at + 1, val, cases


@numba.njit(cache=True)
def lr_negbin(
    x: np.ndarray, mu0: np.ndarray, alpha: float, kappa: float, c_arl: float
) -> tuple[int, np.ndarray, np.ndarray]:
    """R's ``lr_cusum_nb``: negative binomial CUSUM for a known change ``kappa`` in the log mean."""
    lx = x.shape[0]
    val = np.zeros(lx)
    cases = np.zeros(lx)
    alarm_at = lx
    for n in range(lx):
        ratio = math.log((1.0 + alpha * mu0[n]) / (1.0 + alpha * mu0[n] * math.exp(kappa)))
        step = kappa * x[n] + (x[n] + 1.0 / alpha) * ratio
        previous = val[n - 1] if n > 0 else 0.0
        val[n] = _fmax(0.0, previous + step)
        cases[n] = -(previous * alpha + ratio - c_arl * alpha) / alpha / (kappa + ratio)
        if val[n] > c_arl:
            alarm_at = n
            break
    return alarm_at + 1, val, cases
