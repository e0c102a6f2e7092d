"""Farrington (1996) and farringtonFlexible (Noufaily et al. 2013) outbreak detectors.

Ports of R ``surveillance`` 1.20.3 ``algo.farrington`` and ``farringtonFlexible`` (definitions in
``reference/surveillance/ALGORITHMS.md``; sources: Farrington, Andrews, Beale and Catchpole, JRSS A
159:547-563, 1996; Noufaily, Enki, Farrington, Garthwaite, Andrews and Charlett, Stat Med
32:1206-1222, 2013). For each judged time point a quasi-Poisson log-linear GLM is fitted to the same
time of year in the ``b`` previous years (``farrington_reference``), past outbreaks are down-weighted,
a trend is kept only when it is significant and sensible (``farrington_kernel``), and the count is
compared with an upper prediction bound (``farrington_threshold``). An alarm also needs at least
``limit54[0]`` cases in the last ``limit54[1]`` time steps.

``farrington_flexible_many`` is the fast path: many series of the same dates share one design, and
the model fits run compiled and in parallel.

Outputs follow R where R has them: ``threshold`` is R's ``upperbound``, ``score`` R's exceedance score
(``control$score``), ``pvalue`` R's ``control$pvalue`` (P(Y >= y)), ``trend`` 1 where the trend was
kept. ``algo.farrington`` reports threshold 0 and score 0 where the limit54 rule applies; the flexible
variant reports NaN threshold and expected there but still gives the score, as R does. Time points
whose reference weeks lie before the start of the series are not judged (R stops with an error), and
neither are those where the GLM cannot be fitted (R gives NA).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection.base import (
    BoolArray,
    DetectionResult,
    DetectorParameterError,
    FloatArray,
)
from fangkong.analytics.detection.farrington_kernel import Prediction, predict
from fangkong.analytics.detection.farrington_params import FarringtonParams, parse_params
from fangkong.analytics.detection.farrington_reference import (
    IntArray,
    as_day_numbers,
    classic_design,
    flexible_design,
)
from fangkong.analytics.detection.farrington_threshold import delta_bounds, negbin_bounds

__all__ = [
    "FarringtonBatch",
    "FarringtonResult",
    "farrington",
    "farrington_flexible",
    "farrington_flexible_many",
]


@dataclass(frozen=True)
class FarringtonResult(DetectionResult):
    """A :class:`DetectionResult` with two more per-time-point arrays.

    ``trend`` is 1 where the time trend was kept, 0 where it was dropped, NaN where not judged;
    ``dispersion`` is the quasi-Poisson dispersion phi (>= 1) of the final model.
    """

    trend: FloatArray | None = None
    dispersion: FloatArray | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.observed.shape[0]
        for name in ("trend", "dispersion"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (n,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")


@dataclass(frozen=True)
class FarringtonBatch:
    """Results for many series at once: every array is (series, time). ``batch[i]`` is one result."""

    method: str
    observed: FloatArray
    expected: FloatArray
    threshold: FloatArray
    score: FloatArray
    alarm: BoolArray
    judged: BoolArray
    pvalue: FloatArray
    trend: FloatArray
    dispersion: FloatArray
    params: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.observed.shape[0])

    def __getitem__(self, i: int) -> FarringtonResult:
        return FarringtonResult(
            method=self.method,
            observed=self.observed[i],
            expected=self.expected[i],
            threshold=self.threshold[i],
            score=self.score[i],
            alarm=self.alarm[i],
            judged=self.judged[i],
            pvalue=self.pvalue[i],
            params=dict(self.params),
            trend=self.trend[i],
            dispersion=self.dispersion[i],
        )

    def results(self) -> list[FarringtonResult]:
        """One :class:`FarringtonResult` per series, in row order."""
        return [self[i] for i in range(len(self))]


def _counts_2d(observed: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(observed, dtype=np.float64)
    if arr.ndim != 2:
        raise DetectorParameterError(f"{name} must be a 2-d array (series, time), got shape {arr.shape}")
    finite = arr[np.isfinite(arr)]
    if np.any(finite < 0) or np.any(np.isinf(arr)):
        raise DetectorParameterError(f"{name} must hold non-negative counts (NaN for missing)")
    return arr


def _days(params: Mapping[str, object], n: int) -> IntArray | None:
    dates = params.get("dates")
    if dates is None:
        return None
    days = as_day_numbers(dates)  # type: ignore[arg-type]
    if days.shape[0] != n:
        raise DetectorParameterError(f"dates has {days.shape[0]} entries, the series {n}")
    return days


def _log_population(
    params: Mapping[str, object], p: FarringtonParams, shape: tuple[int, int]
) -> FloatArray | None:
    if not p.population_offset:
        return None
    pop = params.get("population")
    if pop is None:
        raise DetectorParameterError("population is required when populationOffset is True")
    arr = np.asarray(pop, dtype=np.float64)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError as exc:
        raise DetectorParameterError(f"population has shape {arr.shape}, counts {shape}") from exc
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise DetectorParameterError("population must be positive and finite")
    return np.log(arr)


def _recent_cases(counts: FloatArray, judged: IntArray, period: int) -> FloatArray:
    """Cases in the ``period`` time steps up to and including each judged point (NaN if any missing)."""
    missing = np.isnan(counts)
    zeros = np.zeros((counts.shape[0], 1))
    csum = np.concatenate([zeros, np.cumsum(np.where(missing, 0.0, counts), axis=1)], axis=1)
    cmiss = np.concatenate([zeros, np.cumsum(missing, axis=1)], axis=1)
    lo = np.maximum(judged + 1 - period, 0)
    total = csum[:, judged + 1] - csum[:, lo]
    out: FloatArray = np.where(cmiss[:, judged + 1] - cmiss[:, lo] > 0, np.nan, total)
    return out


def _scatter(values: FloatArray, judged: IntArray, n: int) -> FloatArray:
    out = np.full((values.shape[0], n), np.nan)
    out[:, judged] = values
    return out


def _scatter_flags(values: BoolArray, judged: IntArray, n: int) -> BoolArray:
    out = np.zeros((values.shape[0], n), dtype=np.bool_)
    out[:, judged] = values
    return out


def _flexible_outputs(
    counts: FloatArray, judged: IntArray, pred: Prediction, p: FarringtonParams
) -> dict[str, FloatArray]:
    y = counts[:, judged]
    if p.threshold_method == "delta":
        mu0 = np.exp(pred.eta0)
        bounds = delta_bounds(mu0, pred.se_eta0 * mu0, pred.phi, p.alpha, y, p.powertrans)
        fit = mu0
    else:
        bounds = negbin_bounds(pred.eta0, pred.se_eta0, pred.phi, p.alpha, y, p.threshold_method)
        fit = np.exp(pred.eta0)
    enough = _recent_cases(counts, judged, p.limit54[1]) >= p.limit54[0]
    upper_ok = ~np.isnan(bounds.upper)
    alarm = pred.fitted & enough & upper_ok & (bounds.score > 1.0) & (y != 0)
    return {
        "expected": np.where(enough & upper_ok, fit, np.nan),
        "threshold": np.where(enough, bounds.upper, np.nan),
        "score": bounds.score,
        "pvalue": bounds.prob,
        "alarm": alarm.astype(np.float64),
    }


def _classic_outputs(
    counts: FloatArray, judged: IntArray, pred: Prediction, p: FarringtonParams
) -> dict[str, FloatArray]:
    y = counts[:, judged]
    mu0 = np.exp(pred.eta0)
    bounds = delta_bounds(mu0, pred.se_eta0 * mu0, pred.phi, p.alpha, y, p.powertrans, two_sided=True)
    enough = _recent_cases(counts, judged, p.limit54[1]) >= p.limit54[0]
    score = np.where(enough, bounds.score, 0.0)
    return {
        "expected": mu0,
        "threshold": np.where(enough, bounds.upper, 0.0),
        "score": score,
        "pvalue": bounds.prob,
        "alarm": (pred.fitted & (score > 1.0)).astype(np.float64),
    }


def _run(counts: FloatArray, params: Mapping[str, object], *, flexible: bool) -> FarringtonBatch:
    n = counts.shape[1]
    p = parse_params(params, n, flexible=flexible)
    days = _days(params, n)
    if p.range is not None:
        judged = p.range
    else:
        # R defaults: algo.farrington (freq*b - w):n, farringtonFlexible (freq*b + w + 1):n, 1-based.
        first = p.freq * p.b + p.w if flexible else max(p.freq * p.b - p.w - 1, 0)
        judged = np.arange(first, n, dtype=np.int64)
    if flexible:
        design = flexible_design(judged, n, p.b, p.w, p.freq, p.no_periods, p.past_weeks_not_included, days)
    else:
        design = classic_design(judged, n, p.b, p.w, p.freq, days)
    judged = design.judged
    pred = predict(
        counts,
        design,
        log_offset=_log_population(params, p, counts.shape) if flexible else None,
        trend=p.trend,
        reweight=p.reweight,
        weights_threshold=p.weights_threshold,
        p_threshold_trend=p.p_threshold_trend,
        b=p.b,
        flexible=flexible,
    )
    out = (
        _flexible_outputs(counts, judged, pred, p) if flexible else _classic_outputs(counts, judged, pred, p)
    )
    ok = pred.fitted
    nan_unless_ok = {k: np.where(ok, v, np.nan) for k, v in out.items() if k != "alarm"}
    return FarringtonBatch(
        method="farringtonFlexible" if flexible else "farrington",
        observed=counts,
        expected=_scatter(nan_unless_ok["expected"], judged, n),
        threshold=_scatter(nan_unless_ok["threshold"], judged, n),
        score=_scatter(nan_unless_ok["score"], judged, n),
        pvalue=_scatter(nan_unless_ok["pvalue"], judged, n),
        alarm=_scatter_flags(out["alarm"] > 0, judged, n),
        judged=_scatter_flags(ok, judged, n),
        trend=_scatter(np.where(ok, pred.trend.astype(np.float64), np.nan), judged, n),
        dispersion=_scatter(pred.phi, judged, n),
        params=p.as_dict(),
    )


def farrington(observed: FloatArray, /, **params: object) -> FarringtonResult:
    """Farrington et al. (1996) detector, as R ``algo.farrington`` (fit function ``fitGLM.fast``).

    Parameters (R names and defaults): ``b=5`` years back, ``w=3`` half window, ``reweight=True``,
    ``alpha=0.05`` (two-sided, z = qnorm(1 - alpha/2)), ``trend=True``, ``limit54=(5, 4)``,
    ``powertrans="2/3"`` ("none", "1/2", "2/3"), ``freq=52``, ``range`` (0-based positions to judge;
    default from position freq*b - w - 1 on, R's ``(freq*b - w):n``), and ``dates`` (optional
    calendar dates of the time points: reference weeks are then found by date as R does for
    ``epochAsDate`` series; weekly and daily data only).
    """
    counts = _counts_2d(np.asarray(observed, dtype=np.float64)[None, :], "observed")
    return _run(counts, params, flexible=False)[0]


def farrington_flexible(observed: FloatArray, /, **params: object) -> FarringtonResult:
    """Improved Farrington detector (Noufaily et al. 2013), as R ``farringtonFlexible``.

    Parameters (R names and defaults): those of :func:`farrington` except that ``alpha`` is one-sided
    (z = qnorm(1 - alpha)), plus ``weightsThreshold=2.58``, ``pThresholdTrend=0.05``, ``noPeriods=1``
    (seasonal factor levels), ``pastWeeksNotIncluded`` (default ``w``), ``thresholdMethod`` ("delta",
    "nbPlugin", "muan"), ``populationOffset=False`` with ``population`` (same length as the series).
    The default ``range`` starts at position freq*b + w (R's ``(freq*b + w + 1):n``).
    """
    counts = _counts_2d(np.asarray(observed, dtype=np.float64)[None, :], "observed")
    if "population" in params and params["population"] is not None:
        params = {**params, "population": np.asarray(params["population"], dtype=np.float64)[None, :]}
    return _run(counts, params, flexible=True)[0]


def farrington_flexible_many(counts_2d: npt.ArrayLike, /, **params: object) -> FarringtonBatch:
    """:func:`farrington_flexible` on every row of a (series, time) matrix; the fast path.

    All rows share ``dates``, ``range`` and the parameters; ``population`` may be (series, time) or
    (time,). Rows are fitted in parallel in compiled code.
    """
    return _run(_counts_2d(counts_2d, "counts_2d"), params, flexible=True)
