"""Compiled loops of the batched detectors (``batch.py``): many series per call, one pass each.

Calling a detector once per series costs tens of microseconds of Python per call, more than the
arithmetic for one judged day. These kernels take a (series, time) matrix and loop over series and
judged points in compiled code. Each follows its per-series detector step for step (same sums in the
same order where it matters), so the two paths agree to rounding; the tests check they give the same
alarms.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from fangkong.analytics.detection._glr_kernels import glr_negbin, glr_poisson, lr_negbin, lr_poisson

FIT_CONVERGED = 0
FIT_NOT_CONVERGED = 1
FIT_SINGULAR = 2

GLR_POISSON = 0
GLR_NEGBIN = 1
LR_POISSON = 2
LR_NEGBIN = 3


@numba.njit(cache=True)
def window_mean_sd(y: np.ndarray, starts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n - 1 divisor) of ``y[r, s : s + length]`` for every row ``r`` and start ``s``."""
    rows = y.shape[0]
    k = starts.shape[0]
    mean = np.empty((rows, k))
    sd = np.empty((rows, k))
    for r in range(rows):
        for j in range(k):
            s = starts[j]
            total = 0.0
            for i in range(s, s + length):
                total += y[r, i]
            m = total / length
            squares = 0.0
            for i in range(s, s + length):
                d = y[r, i] - m
                squares += d * d
            mean[r, j] = m
            sd[r, j] = math.sqrt(squares / (length - 1))
    return mean, sd


@numba.njit(cache=True)
def reference_sums(y: np.ndarray, t: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``y[r, t_j + offset]`` over the offsets, for every row and judged point."""
    rows = y.shape[0]
    k = t.shape[0]
    out = np.empty((rows, k))
    for r in range(rows):
        for j in range(k):
            total = 0.0
            for o in range(offsets.shape[0]):
                total += y[r, t[j] + offsets[o]]
            out[r, j] = total
    return out


@numba.njit(cache=True)
def reference_mean_sd(y: np.ndarray, t: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n - 1 divisor) of the reference values ``y[r, t_j + offset]``."""
    rows = y.shape[0]
    k = t.shape[0]
    m = offsets.shape[0]
    mean = np.empty((rows, k))
    sd = np.empty((rows, k))
    for r in range(rows):
        for j in range(k):
            total = 0.0
            for o in range(m):
                total += y[r, t[j] + offsets[o]]
            mu = total / m
            squares = 0.0
            for o in range(m):
                d = y[r, t[j] + offsets[o]] - mu
                squares += d * d
            mean[r, j] = mu
            sd[r, j] = math.sqrt(squares / (m - 1)) if m > 1 else np.nan
    return mean, sd


@numba.njit(cache=True)
def _solve_spd(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """Solve ``a x = b`` for a symmetric positive definite ``a`` by Cholesky; False if it is not."""
    p = a.shape[0]
    low = np.zeros((p, p))
    for i in range(p):
        for j in range(i + 1):
            s = a[i, j]
            for q in range(j):
                s -= low[i, q] * low[j, q]
            if i == j:
                if not s > 0.0:
                    return False
                low[i, i] = math.sqrt(s)
            else:
                low[i, j] = s / low[j, j]
    z = np.empty(p)
    for i in range(p):
        s = b[i]
        for q in range(i):
            s -= low[i, q] * z[q]
        z[i] = s / low[i, i]
    for i in range(p - 1, -1, -1):
        s = z[i]
        for q in range(i + 1, p):
            s -= low[q, i] * out[q]
        out[i] = s / low[i, i]
    return True


@numba.njit(cache=True)
def _deviance(y: np.ndarray, mu: np.ndarray, theta: float) -> float:
    total = 0.0
    for t in range(y.shape[0]):
        ylogy = y[t] * math.log(y[t] / mu[t]) if y[t] > 0 else 0.0
        if theta <= 0.0:
            total += ylogy - (y[t] - mu[t])
        else:
            total += ylogy - (y[t] + theta) * math.log((y[t] + theta) / (mu[t] + theta))
    return 2.0 * total


@numba.njit(cache=True)
def fit_log_glm_rows(
    x: np.ndarray, y: np.ndarray, theta: float, tolerance: float, max_iterations: int, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """IRLS of ``_seasonal_glm.fit_log_glm`` for every row of ``y`` on the shared design ``x``.

    ``theta <= 0`` is the Poisson model, else negative binomial with size ``theta``. Returns the
    coefficients (rows, p) and a status per row (``FIT_*``). The weighted least-squares step solves
    the normal equations (the per-series fit uses a QR-based solver), so coefficients agree to
    rounding.
    """
    rows, n = y.shape
    p = x.shape[1]
    beta = np.zeros((rows, p))
    status = np.zeros(rows, dtype=np.int64)
    mu = np.empty(n)
    eta = np.empty(n)
    a = np.empty((p, p))
    b = np.empty(p)
    solution = np.zeros(p)
    for r in range(rows):
        yr = y[r]
        for t in range(n):
            mu[t] = yr[t] + 0.1
            eta[t] = math.log(mu[t])
        deviance_old = np.inf
        status[r] = FIT_NOT_CONVERGED
        for _ in range(max_iterations):
            a[:, :] = 0.0
            b[:] = 0.0
            for t in range(n):
                factor = 1.0 if theta <= 0.0 else 1.0 + mu[t] / theta
                w = mu[t] / factor
                z = eta[t] + (yr[t] - mu[t]) / mu[t]
                for i in range(p):
                    wx = w * x[t, i]
                    b[i] += wx * z
                    for j in range(i + 1):
                        a[i, j] += wx * x[t, j]
            for i in range(p):
                for j in range(i + 1, p):
                    a[i, j] = a[j, i]
            if not _solve_spd(a, b, solution):
                status[r] = FIT_SINGULAR
                break
            for t in range(n):
                e = 0.0
                for i in range(p):
                    e += x[t, i] * solution[i]
                eta[t] = e
                mu[t] = max(math.exp(e), floor)
            beta[r, :] = solution
            deviance = _deviance(yr, mu, theta)
            if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < tolerance:
                status[r] = FIT_CONVERGED
                break
            deviance_old = deviance
    return beta, status


PRUNE_SLACK = 1e-7
"""relative and absolute slack on the pruning bound of ``glr_poisson_pruned``, far above rounding."""


@numba.njit(cache=True)
def glr_poisson_pruned(x: np.ndarray, mu0: np.ndarray, Mtilde: int, c_arl: float) -> tuple[int, np.ndarray]:
    """``_glr_kernels.glr_poisson`` for ``M <= 0``, ``dir="inc"``, without cases: the same maximum,
    found without visiting change points that cannot beat it.

    At time ``n`` the statistic of change point ``k`` is ``f(X, U) = X log(X/U) - X + U`` for the sums
    ``X`` of counts and ``U`` of means over ``k..n`` (0 when ``X <= U``), and ``f <= (X - U)^2 / (2U)``.
    For every earlier change point ``k' < k``, ``U`` only grows and ``X - U`` is at most
    ``C[n+1] - min(C[0..k-1])`` with ``C`` the running sum of ``x - mu0``; once that bound (with
    slack) is below the best value so far, no earlier change point can reach it and the scan stops.
    Values visited are computed exactly as the unpruned kernel does, so the maximum is the same.
    """
    lx = x.shape[0]
    val = np.zeros(lx)
    running = np.zeros(lx + 1)
    lowest = np.zeros(lx + 1)  # lowest[j] = min(running[0..j])
    for j in range(lx):
        running[j + 1] = running[j] + (x[j] - mu0[j])
        lowest[j + 1] = min(lowest[j], running[j + 1])
    n = max(0, Mtilde - 1)
    while n < lx:
        sumx = 0.0
        summu0 = 0.0
        best = -1e99
        for k in range(n, -1, -1):
            sumx += x[k]
            summu0 += mu0[k]
            if summu0 > 0.0 and sumx <= summu0:
                value = 0.0
            else:
                kappa = _fmax_nan(0.0, math.log(sumx / summu0))
                value = kappa * sumx + (1.0 - math.exp(kappa)) * summu0
            if value > best:
                best = value
            if k > 0 and summu0 > 0.0:
                rise = running[n + 1] - lowest[k - 1]
                bound = rise * rise / (2.0 * summu0) if rise > 0.0 else 0.0
                if bound * (1.0 + PRUNE_SLACK) + PRUNE_SLACK < best:
                    break
        val[n] = best
        if best >= c_arl:
            return n + 1, val
        n += 1
    return lx + 1, val


@numba.njit(cache=True)
def _fmax_nan(a: float, b: float) -> float:
    # C's fmax, as _glr_kernels._fmax: a NaN argument yields the other one.
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return a if a > b else b


@numba.njit(cache=True)
def glr_chart_rows(
    counts: np.ndarray,
    means: np.ndarray,
    kind: int,
    alpha: float,
    M: int,
    Mtilde: int,
    c_arl: float,
    direction: int,
    kappa: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``glrnb._run_chart`` (``ret="value"``) on every row: the chart restarts after each alarm.

    ``kind`` is ``GLR_POISSON``, ``GLR_NEGBIN``, ``LR_POISSON`` or ``LR_NEGBIN``; ``kappa`` is the
    known change of the LR charts. Returns the statistic (NaN and negatives as 0, as R) and alarms.
    """
    rows, total = counts.shape
    score = np.zeros((rows, total))
    alarm = np.zeros((rows, total), dtype=np.bool_)
    for r in range(rows):
        # The pruning bound needs finite positive means (a fitted log-link mean always is).
        prunable = True
        for j in range(total):
            if not (means[r, j] > 0.0 and math.isfinite(means[r, j])):
                prunable = False
        done = 0
        while done < total:
            x = counts[r, done:]
            mu = means[r, done:]
            if kind == GLR_POISSON and M <= 0 and direction == 1 and prunable:
                alarm_n, val = glr_poisson_pruned(x, mu, Mtilde, c_arl)
            elif kind == GLR_POISSON:
                alarm_n, val, _ = glr_poisson(x, mu, M, Mtilde, c_arl, direction, False)
            elif kind == GLR_NEGBIN:
                alarm_n, val = glr_negbin(x, mu, alpha, M, Mtilde, c_arl, direction)
            elif kind == LR_POISSON:
                alarm_n, val, _ = lr_poisson(x, mu, kappa, c_arl)
            else:
                alarm_n, val, _ = lr_negbin(x, mu, alpha, kappa, c_arl)
            upto = min(alarm_n, x.shape[0])
            for i in range(upto):
                v = val[i]
                score[r, done + i] = 0.0 if math.isnan(v) else max(v, 0.0)
            if alarm_n <= x.shape[0]:
                alarm[r, done + alarm_n - 1] = True
            done += alarm_n
    return score, alarm


@numba.njit(cache=True)
def first_bad_values(y: np.ndarray, columns: np.ndarray, non_negative: bool) -> np.ndarray:
    """Per row, the first of ``columns`` (sorted) whose value is not finite (or negative), else -1."""
    rows = y.shape[0]
    out = np.full(rows, -1, dtype=np.int64)
    for r in range(rows):
        for c in range(columns.shape[0]):
            t = columns[c]
            v = y[r, t]
            if not math.isfinite(v) or (non_negative and v < 0.0):
                out[r] = t
                break
    return out


CUSUM_TRANSFORMS = ("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")
"""The order of ``cusum.TRANSFORMS``; ``cusum_rows`` takes the position as its ``trans`` code."""


@numba.njit(cache=True)
def _min_nan(a: float, b: float) -> float:
    # np.minimum propagates NaN (a phase-1 mean of 0 makes the chart undefined); Python's min does not.
    if math.isnan(a) or math.isnan(b):
        return np.nan
    return a if a < b else b


@numba.njit(cache=True, error_model="numpy")
def _cusum_z(x: float, m: float, trans: int, alpha: float) -> float:
    if trans == 1:
        return (x - 3.0 * m + 2.0 * math.sqrt(x * m)) / (2.0 * math.sqrt(m))
    if trans == 0:
        return (x - m) / math.sqrt(m)
    if trans == 2:
        return float(1.5 * (x ** (2.0 / 3.0) - m ** (2.0 / 3.0)) / m ** (1.0 / 6.0))
    if trans == 3:
        shifted = m ** (2.0 / 3.0) - m ** (-1.0 / 3.0) / 9.0
        return float((x ** (2.0 / 3.0) - shifted) / (2.0 / 3.0 * m ** (1.0 / 6.0)))
    if trans == 4:
        return (x - m) / math.sqrt(m + alpha * m**2)
    return x


@numba.njit(cache=True, error_model="numpy")
def _cusum_bound(
    m: float, s_prev: float, s_now: float, trans: int, k: float, h: float, alpha: float
) -> float:
    room = h + k - s_prev
    if trans == 1:
        root = m**1.5
        bound = (
            2.0 * h * math.sqrt(m)
            + 2.0 * k * math.sqrt(m)
            - 2.0 * s_prev * math.sqrt(m)
            + 5.0 * m
            - 2.0 * math.sqrt(4.0 * m**2 + 2.0 * root * h + 2.0 * root * k - 2.0 * root * s_prev)
        )
    elif trans == 0:
        bound = np.ceil(math.sqrt(m) * room + m)
    elif trans == 2:
        base = 2.0 / 3.0 * m ** (1.0 / 6.0) * room + m ** (2.0 / 3.0)
        bound = 0.0 if base < 0 else abs(base) ** 1.5
    elif trans == 3:
        base = 2.0 / 3.0 * m ** (1.0 / 6.0) * room + (m ** (2.0 / 3.0) - m ** (1.0 / 3.0) / 9.0)
        bound = 0.0 if base < 0 else abs(base) ** 1.5
    elif trans == 4:
        bound = math.sqrt(m + alpha * m**2) * room + m
    else:
        bound = h - s_now
    if math.isnan(bound):
        return 0.0
    return max(bound, 0.0)


@numba.njit(cache=True, error_model="numpy")
def cusum_rows(
    y: np.ndarray,
    start: int,
    count_given: int,
    mean: np.ndarray,
    trans: int,
    k: float,
    h: float,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cusum``'s chart and bound on every row, judged points ``start .. start + mean.shape[1] - 1``.

    The chart is the recursion ``S_t = max(0, S_{t-1} + z_t - k)`` from 0, written as the per-series
    detector computes it (running sum minus its running minimum, floored at 0). ``mean`` is
    (rows, points), or (rows, 1) for one in-control mean per row.
    """
    rows = mean.shape[0]
    count = mean.shape[1] if count_given < 0 else count_given
    per_point = mean.shape[1] > 1
    chart = np.empty((rows, count))
    upper = np.empty((rows, count))
    alarm = np.empty((rows, count), dtype=np.bool_)
    for r in range(rows):
        running = 0.0
        lowest = np.inf
        s_prev = 0.0
        for j in range(count):
            m = mean[r, j] if per_point else mean[r, 0]
            running += _cusum_z(y[r, start + j], m, trans, alpha) - k
            lowest = _min_nan(lowest, running)
            s_now = running - _min_nan(lowest, 0.0)
            chart[r, j] = s_now
            upper[r, j] = _cusum_bound(m, s_prev, s_now, trans, k, h, alpha)
            alarm[r, j] = s_now >= h
            s_prev = s_now
    return chart, upper, alarm


@numba.njit(cache=True)
def block_mean_sd(
    cum: np.ndarray, t: np.ndarray, starts: np.ndarray, block: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n - 1 divisor) of the block sums ``cum[r, t + s + block] - cum[r, t + s]``."""
    rows = cum.shape[0]
    k = t.shape[0]
    m = starts.shape[0]
    mean = np.empty((rows, k))
    sd = np.empty((rows, k))
    sums = np.empty(m)
    for r in range(rows):
        for j in range(k):
            total = 0.0
            for o in range(m):
                p = t[j] + starts[o]
                sums[o] = cum[r, p + block] - cum[r, p]
                total += sums[o]
            mu = total / m
            squares = 0.0
            for o in range(m):
                d = sums[o] - mu
                squares += d * d
            mean[r, j] = mu
            sd[r, j] = math.sqrt(squares / (m - 1)) if m > 1 else np.nan
    return mean, sd


@numba.njit(cache=True)
def phase1_sums(y: np.ndarray, start: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass over ``y[:, :last + 1]``: the first bad value (not finite, or negative) of each row
    (-1 if none), the sum of ``y[:, :start]`` and whether those values are all whole numbers (then
    the sum is exact, whatever the order of summation)."""
    rows = y.shape[0]
    first_bad = np.full(rows, -1, dtype=np.int64)
    total = np.zeros(rows)
    whole = np.ones(rows, dtype=np.bool_)
    for r in range(rows):
        s = 0.0
        exact = True
        for t in range(last + 1):
            v = y[r, t]
            if not math.isfinite(v) or v < 0.0:
                first_bad[r] = t
                break
            if t < start:
                s += v
                if exact and v != math.floor(v):
                    exact = False
        total[r] = s
        whole[r] = exact
    return first_bad, total, whole
