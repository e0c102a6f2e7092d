"""GLR (and LR) charts for Poisson and negative binomial counts, as R ``surveillance::algo.glrnb`` 1.20.3.

Höhle & Paul (2008), "Count data regression charts for the monitoring of surveillance time series",
CSDA 52:4357-4368; reference/surveillance/ALGORITHMS.md section 2, "Others". Only the intercept chart
(``change="intercept"``, a multiplicative jump ``exp(kappa)`` of the in-control mean) is implemented;
R's epidemic chart (``change="epi"``) is not.

* In-control means ``mu0``: given (one number, one value per time point of the series, or one per
  monitored point), or fitted on the time points before ``range`` starts with
  ``log mu = b0 [+ b1 t] + S harmonics`` of period ``freq``: a Poisson GLM when ``alpha == 0``, a
  negative binomial GLM with that ``alpha`` when ``alpha > 0``, ``glm.nb`` estimating ``alpha`` when
  ``alpha`` is None (R's defaults when ``mu0`` is not given: ``S = 1``, no trend).
* ``theta`` None: the generalised likelihood ratio chart (kappa estimated, ``Mtilde``/``M`` window);
  ``theta`` given: the ordinary LR CUSUM for the known change ``kappa = theta``.
* The chart alarms when the statistic reaches ``c_ARL`` and then **restarts** on the following time
  point, as R does.
* ``ret="value"`` (R's default): ``score`` is the GLR statistic, ``threshold`` is left undefined.
  ``ret="cases"``: ``threshold`` is also the count that would have raised the alarm at each point
  (R's ``upperbound`` then), found for negative binomial GLR by R's brute-force search (slow: it
  re-evaluates the statistic for every candidate count; see ``cases_from_zero``, ``xMax``).

Negative values of R's ``upperbound`` and NaN are reported as 0, as R does. A fitted ``mu0`` whose
history has almost no cases (RKI's m5 before week 60) drifts to rates of zero: as R, the fit warns
("did not converge", "fitted rates numerically 0 occurred"), the means are floored at the machine
epsilon and the chart runs (see ``_seasonal_glm``). ``batch.detect_batch`` runs many series at once.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection._common import (
    IntArray,
    RangeSpec,
    as_counts,
    build_result,
    check_choice,
    check_int,
    check_positive,
    require_contiguous,
    resolve_range,
)
from fangkong.analytics.detection._seasonal_glm import fit_glm_nb, fit_log_glm, log_link_mean, seasonal_design
from fangkong.analytics.detection.base import DetectionResult, DetectorParameterError, FloatArray
from fangkong.analytics.detection.cusum import default_phase1_length

GLR_C_ARL = 5.0
"""alarm threshold on the GLR statistic; R algo.glrnb default ``c.ARL = 5``."""

GLR_MTILDE = 1
"""time points needed after a change point to estimate it; R algo.glrnb default ``Mtilde = 1``."""

GLR_M = -1
"""how far back change points are searched; R algo.glrnb default ``M = -1`` (the whole chart)."""

GLR_ALPHA = 0.0
"""NB dispersion (variance ``mu + alpha mu^2``); 0 is the Poisson chart, R's signature default."""

GLR_FREQ = 52
"""time points a year for the fitted seasonal ``mu0``; R ``disProg`` default ``freq = 52``."""

GLR_HARMONICS = 1
"""harmonics of the fitted ``mu0``; R estimateGLRNbHook default ``mu0$S = 1``."""

GLR_X_MAX = 10_000
"""cases; largest count tried by the negative binomial ``ret="cases"`` search; R default ``xMax = 1e4``."""

Direction = Literal["inc", "dec"]
Returned = Literal["value", "cases"]


def _resolve_mu0(
    y: FloatArray,
    idx: IntArray,
    mu0: float | npt.ArrayLike | None,
    alpha: float | None,
    S: int,
    trend: bool,
    freq: int,
) -> tuple[FloatArray, float]:
    """In-control means over the monitored points, and the dispersion in force."""
    if mu0 is not None:
        given = np.asarray(mu0, dtype=np.float64)
        if given.ndim == 0:
            means = np.full(idx.shape[0], float(given))
        elif given.shape[0] == y.shape[0]:
            means = given[idx]
        elif given.shape[0] == idx.shape[0]:
            means = given.copy()
        else:
            raise DetectorParameterError(
                f"mu0: needs one value, {y.shape[0]} (the series) or {idx.shape[0]} (the range); "
                f"got {given.shape[0]}"
            )
        if not np.all(np.isfinite(means) & (means > 0)):
            raise DetectorParameterError("mu0: every in-control mean must be a positive number")
        if alpha is None:
            raise DetectorParameterError("alpha: can only be estimated when mu0 is fitted; give alpha")
        return means, alpha
    start = int(idx[0])
    train_t = np.arange(1, start + 1, dtype=np.float64)
    design = seasonal_design(train_t, freq, S, trend)
    target = seasonal_design(idx.astype(np.float64) + 1.0, freq, S, trend)
    if alpha is None:
        beta, theta = fit_glm_nb(design, y[:start])
        alpha = 1.0 / theta
    else:
        beta = fit_log_glm(design, y[:start], None if alpha == 0 else 1.0 / alpha)
    return log_link_mean(target @ beta), alpha


def glrnb(
    observed: npt.ArrayLike,
    *,
    c_ARL: float = GLR_C_ARL,
    mu0: float | npt.ArrayLike | None = None,
    alpha: float | None = GLR_ALPHA,
    Mtilde: int = GLR_MTILDE,
    M: int = GLR_M,
    theta: float | None = None,
    dir: Direction = "inc",
    ret: Returned = "value",
    S: int = GLR_HARMONICS,
    trend: bool = False,
    freq: int = GLR_FREQ,
    xMax: int = GLR_X_MAX,
    cases_from_zero: bool = False,
    range: RangeSpec = None,
) -> DetectionResult:
    """GLR / LR chart over ``range`` (0-based, consecutive); see the module docstring.

    Without ``range``: the whole series when ``mu0`` is given, else the first year (or half) is the
    phase used to fit ``mu0`` and the rest is monitored. ``expected`` is ``mu0``.
    """
    y = as_counts(observed)
    n = y.shape[0]
    c_arl = check_positive("c_ARL", c_ARL)
    Mtilde = check_int("Mtilde", Mtilde, 1)
    M = check_int("M", M, -1)
    if M != -1 and Mtilde > M:
        raise DetectorParameterError(f"M: must be -1 (no window) or at least Mtilde={Mtilde}; got {M}")
    direction = 1 if check_choice("dir", dir, ("inc", "dec")) == "inc" else -1
    returned = check_choice("ret", ret, ("value", "cases"))
    S = check_int("S", S, 0)
    freq = check_int("freq", freq, 1)
    xMax = check_int("xMax", xMax, 1)
    if alpha is not None:
        alpha = check_positive("alpha", alpha, allow_zero=True)
    if theta is not None and (not np.isfinite(theta) or theta == 0):
        raise DetectorParameterError(f"theta: the change to detect must be a non-zero number; got {theta}")
    fitted = mu0 is None
    min_phase1 = 2 + 2 * S + int(trend)
    if range is None and fitted:
        idx = resolve_range(None, n, max(min_phase1, default_phase1_length(n, freq)))
    else:
        idx = resolve_range(range, n, min_phase1 if fitted else 0)
    require_contiguous(idx)
    means, alpha_used = _resolve_mu0(y, idx, mu0, alpha, S, bool(trend), freq)
    counts = y[idx].astype(np.int64)  # R hands the counts to C through as.integer(), i.e. truncated
    score, cases, alarm = _run_chart(
        counts, means, alpha_used, M, Mtilde, c_arl, direction, theta, returned, xMax, cases_from_zero
    )
    threshold = cases if returned == "cases" else np.full(idx.shape[0], np.nan)
    return build_result(
        "glrnb",
        y,
        idx,
        expected=means,
        threshold=threshold,
        score=score,
        alarm=alarm,
        params={
            "c_ARL": c_arl,
            "alpha": alpha_used,
            "Mtilde": Mtilde,
            "M": M,
            "theta": theta,
            "dir": dir,
            "ret": returned,
            "S": S,
            "trend": bool(trend),
            "freq": freq,
            "mu0": "fitted" if fitted else "given",
        },
    )


def _run_chart(
    counts: npt.NDArray[np.int64],
    means: FloatArray,
    alpha: float,
    M: int,
    Mtilde: int,
    c_arl: float,
    direction: int,
    theta: float | None,
    returned: str,
    x_max: int,
    from_zero: bool,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Run the chart segment by segment, restarting after each alarm as R's ``algo.glrnb`` loop."""
    from fangkong.analytics.detection import _glr_kernels as kernels

    total = counts.shape[0]
    score = np.zeros(total)
    cases = np.zeros(total)
    alarm = np.zeros(total, dtype=np.bool_)
    done = 0
    want_cases = returned == "cases"
    while done < total:
        x = counts[done:]
        mu = means[done:]
        seg_cases = np.zeros(x.shape[0])
        if theta is None and alpha == 0:
            alarm_n, val, seg_cases = kernels.glr_poisson(x, mu, M, Mtilde, c_arl, direction, want_cases)
        elif theta is None:
            alarm_n, val = kernels.glr_negbin(x, mu, alpha, M, Mtilde, c_arl, direction)
            if want_cases:
                seg_cases = kernels.negbin_cases(
                    x, mu, alpha, M, Mtilde, c_arl, direction, alarm_n, x_max, from_zero
                )
        elif alpha == 0:
            alarm_n, val, seg_cases = kernels.lr_poisson(x, mu, float(theta), c_arl)
        else:
            alarm_n, val, seg_cases = kernels.lr_negbin(x, mu, alpha, float(theta), c_arl)
        # R keeps the statistic up to and including the alarm; after it the chart starts afresh.
        upto = min(int(alarm_n), x.shape[0])
        score[done : done + upto] = val[:upto]
        cases[done : done + upto] = seg_cases[:upto]
        if alarm_n <= x.shape[0]:
            alarm[done + alarm_n - 1] = True
        done += int(alarm_n)
    # As R: "ensure upper bound is positive and not NaN".
    statistic: FloatArray = np.where(np.isnan(score), 0.0, np.maximum(score, 0.0))
    bound: FloatArray = np.where(np.isnan(cases), 0.0, np.maximum(cases, 0.0))
    return statistic, bound, alarm
