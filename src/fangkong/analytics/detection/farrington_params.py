"""Parameters of the Farrington detectors: R ``surveillance`` 1.20.3 names, defaults and checks.

Every default is on its own line with its unit and the R source it comes from. ``range`` differs from R
in one way only: it holds 0-based positions in the series (R uses 1-based indices).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.farrington_threshold import POWER_EXPONENTS, THRESHOLD_METHODS

IntArray = npt.NDArray[np.int64]

YEARS_BACK = 5
"""b: years of history (years); R ``algo.farrington`` and ``farringtonFlexible`` default ``b = 5``."""
HALF_WINDOW = 3
"""w: half-width of each yearly reference window (time steps); R default ``w = 3``."""
REWEIGHT = True
"""Down-weight past outbreaks by Anscombe residuals; R default ``reweight = TRUE``."""
ALPHA = 0.05
"""Significance level of the upper bound (probability); R default ``alpha = 0.05``."""
TREND = True
"""Try a linear time trend; R default ``trend = TRUE``."""
LIMIT54_CASES = 5
"""Fewest cases in the recent period for an alarm (cases); R default ``limit54 = c(5, 4)``, first value."""
LIMIT54_PERIOD = 4
"""Length of that recent period, current one included (time steps); R ``limit54 = c(5, 4)``, second value."""
POWERTRANS = "2/3"
"""Power transformation of the delta method; R default ``powertrans = "2/3"``."""
FREQUENCY = 52
"""Time steps per year (52 weekly, 365 daily, 12 monthly); R ``sts@freq`` of weekly data."""
CLASSIC_TREND_P = 0.05
"""p-value below which ``algo.farrington`` keeps the trend (probability); hard-coded in R ``p < 0.05``."""
CLASSIC_WEIGHTS_THRESHOLD = 1.0
"""Anscombe residual above which ``algo.farrington`` down-weights (dimensionless); R default of
``algo.farrington.assign.weights(s, weightsThreshold = 1)``."""
WEIGHTS_THRESHOLD = 2.58
"""Anscombe residual above which ``farringtonFlexible`` down-weights (dimensionless); R default
``weightsThreshold = 2.58`` (Noufaily et al. 2013)."""
P_THRESHOLD_TREND = 0.05
"""p-value below which ``farringtonFlexible`` keeps the trend (probability); R ``pThresholdTrend = 0.05``."""
NO_PERIODS = 1
"""Levels of the seasonal factor (count; 1 = reference windows only); R default ``noPeriods = 1``."""
THRESHOLD_METHOD = "delta"
"""Upper bound method of ``farringtonFlexible``; R default ``thresholdMethod = "delta"``."""
POPULATION_OFFSET = False
"""Model log(population) as an offset; R default ``populationOffset = FALSE``."""


@dataclass(frozen=True)
class FarringtonParams:
    """Validated parameters of both detectors (the flexible-only ones are ignored by the classic one).

    Fields are the R names in snake case (``weightsThreshold`` -> ``weights_threshold``).
    """

    b: int
    w: int
    reweight: bool
    alpha: float
    trend: bool
    limit54: tuple[int, int]
    powertrans: str
    freq: int
    range: IntArray | None
    weights_threshold: float
    p_threshold_trend: float
    no_periods: int
    past_weeks_not_included: int
    threshold_method: str
    population_offset: bool

    def as_dict(self) -> dict[str, object]:
        """The parameters under their R names, for ``DetectionResult.params``."""
        return {
            "b": self.b,
            "w": self.w,
            "reweight": self.reweight,
            "alpha": self.alpha,
            "trend": self.trend,
            "limit54": list(self.limit54),
            "powertrans": self.powertrans,
            "freq": self.freq,
            "weightsThreshold": self.weights_threshold,
            "pThresholdTrend": self.p_threshold_trend,
            "noPeriods": self.no_periods,
            "pastWeeksNotIncluded": self.past_weeks_not_included,
            "thresholdMethod": self.threshold_method,
            "populationOffset": self.population_offset,
        }


_CLASSIC = ("b", "w", "reweight", "alpha", "trend", "limit54", "powertrans", "freq", "range")
_FLEXIBLE = (
    *_CLASSIC,
    "weightsThreshold",
    "pThresholdTrend",
    "noPeriods",
    "pastWeeksNotIncluded",
    "thresholdMethod",
    "populationOffset",
)
_DATA = ("dates", "population")


def _int(params: Mapping[str, object], name: str, default: int, minimum: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DetectorParameterError.of("{name}: must be an integer, got “{value}”", name=name, value=value)
    if value < minimum:
        raise DetectorParameterError.of(
            "{name}: must be at least {minimum}, got {value}", name=name, minimum=minimum, value=value
        )
    return int(value)


def _float(params: Mapping[str, object], name: str, default: float, low: float, high: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DetectorParameterError.of("{name}: must be a number, got “{value}”", name=name, value=value)
    if not low <= float(value) <= high:
        raise DetectorParameterError.of(
            "{name}: must lie in [{low}, {high}], got {value}", name=name, low=low, high=high, value=value
        )
    return float(value)


def _bool(params: Mapping[str, object], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool | np.bool_):
        raise DetectorParameterError.of(
            "{name}: must be True or False, got “{value}”", name=name, value=value
        )
    return bool(value)


def _choice(params: Mapping[str, object], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise DetectorParameterError.of(
            "{name}: must be one of {options}; got “{value}”",
            name=name,
            options=", ".join(allowed),
            value=value,
        )
    return str(value)


def _limit54(params: Mapping[str, object]) -> tuple[int, int]:
    value = params.get("limit54", (LIMIT54_CASES, LIMIT54_PERIOD))
    if isinstance(value, str):
        # command lines give "5,4"
        value = value.split(",")
    try:
        cases, period = (int(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise DetectorParameterError(f"limit54 must be two integers (cases, period), got {value!r}") from exc
    if cases < 0 or period <= 0:
        raise DetectorParameterError(f"limit54 needs cases >= 0 and period > 0, got {value!r}")
    return cases, period


def _range(params: Mapping[str, object], n: int) -> IntArray | None:
    value = params.get("range")
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise DetectorParameterError("range must be a 1-d sequence of integer positions (0-based)")
    arr = np.unique(arr.astype(np.int64))
    if arr.size and (arr[0] < 0 or arr[-1] >= n):
        raise DetectorParameterError(f"range positions must lie in 0..{n - 1}, got {arr[0]}..{arr[-1]}")
    return arr


def parse_params(params: Mapping[str, object], n: int, *, flexible: bool) -> FarringtonParams:
    """Check ``params`` against the detector's names; unknown names are an error."""
    known = (_FLEXIBLE if flexible else _CLASSIC) + _DATA
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise DetectorParameterError(f"unknown parameter(s) {unknown}; expected some of {sorted(known)}")
    w = _int(params, "w", HALF_WINDOW, 0)
    past = params.get("pastWeeksNotIncluded")
    return FarringtonParams(
        b=_int(params, "b", YEARS_BACK, 1),
        w=w,
        reweight=_bool(params, "reweight", REWEIGHT),
        alpha=_float(params, "alpha", ALPHA, 1e-12, 1.0 - 1e-12),
        trend=_bool(params, "trend", TREND),
        limit54=_limit54(params),
        powertrans=_choice(params, "powertrans", POWERTRANS, tuple(POWER_EXPONENTS)),
        freq=_int(params, "freq", FREQUENCY, 1),
        range=_range(params, n),
        weights_threshold=_float(
            params,
            "weightsThreshold",
            WEIGHTS_THRESHOLD if flexible else CLASSIC_WEIGHTS_THRESHOLD,
            -np.inf,
            np.inf,
        ),
        p_threshold_trend=_float(
            params, "pThresholdTrend", P_THRESHOLD_TREND if flexible else CLASSIC_TREND_P, 0.0, np.inf
        ),
        no_periods=_int(params, "noPeriods", NO_PERIODS, 1),
        past_weeks_not_included=w if past is None else _int(params, "pastWeeksNotIncluded", w, 0),
        threshold_method=_choice(params, "thresholdMethod", THRESHOLD_METHOD, THRESHOLD_METHODS),
        population_offset=_bool(params, "populationOffset", POPULATION_OFFSET),
    )
