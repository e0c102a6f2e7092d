"""Helpers shared by the temporal detectors: input checks, the monitored range, result assembly.

Time points are **0-based** everywhere in Python. R's ``range = 209:290`` (1-based, both ends
included) is ``range(208, 290)`` here: subtract one from the start and keep the stop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection.base import (
    BoolArray,
    DetectionResult,
    DetectorParameterError,
    FloatArray,
)

IntArray = npt.NDArray[np.int64]

RangeSpec = range | slice | Sequence[int] | npt.NDArray[np.integer] | None
"""Which time points to judge: a ``range``, a ``slice``, or any sequence of 0-based indices."""

WEEKS_PER_YEAR = 52
"""R ``surveillance`` counts a year of weekly data as 52 weeks (``disProg$freq``)."""

DAYS_PER_YEAR = 365
"""A year of daily data, as in R ``surveillance`` (``freq = 365``); leap days are not corrected."""


def as_series(observed: npt.ArrayLike) -> FloatArray:
    """The observed counts as a 1-d float array; refuses anything that is not a finite series."""
    arr = np.asarray(observed, dtype=np.float64)
    if arr.ndim != 1:
        raise DetectorParameterError(f"observed: expected a 1-d series, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DetectorParameterError("observed: the series is empty")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DetectorParameterError(f"observed: value at index {int(bad[0])} is not a finite number")
    return arr


def as_counts(observed: npt.ArrayLike) -> FloatArray:
    """As :func:`as_series`, and every value must be a non-negative count."""
    arr = as_series(observed)
    negative = np.flatnonzero(arr < 0)
    if negative.size:
        raise DetectorParameterError(f"observed: value at index {int(negative[0])} is negative")
    return arr


def resolve_range(spec: RangeSpec, n: int, first: int, *, name: str = "range") -> IntArray:
    """The sorted 0-based time points to judge.

    ``first`` is the earliest index for which the method has all the history it needs; ``None``
    means "every index from ``first`` to the end". An explicit range that reaches before ``first``
    is refused rather than silently shortened, as R does ("The vector of observed is too short!").
    """
    if spec is None:
        if first >= n:
            raise DetectorParameterError(
                f"{name}: the series has {n} time points but the method needs at least {first + 1}"
            )
        return np.arange(first, n, dtype=np.int64)
    if isinstance(spec, slice):
        idx = np.arange(n, dtype=np.int64)[spec]
    else:
        try:
            idx = np.asarray(list(spec) if not isinstance(spec, np.ndarray) else spec)
        except TypeError as exc:
            raise DetectorParameterError(f"{name}: not a sequence of time points ({spec!r})") from exc
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise DetectorParameterError(f"{name}: time points must be integers, got {idx.dtype}")
        idx = np.unique(idx.astype(np.int64))
    if idx.size == 0:
        raise DetectorParameterError(f"{name}: no time point selected")
    if idx[0] < 0 or idx[-1] >= n:
        raise DetectorParameterError(
            f"{name}: time points must lie in 0..{n - 1} (0-based), got {int(idx[0])}..{int(idx[-1])}"
        )
    if idx[0] < first:
        raise DetectorParameterError(
            f"{name}: time point {int(idx[0])} (0-based) has too little history; "
            f"the method needs {first} earlier time points, so the range must start at {first} or later"
        )
    return idx


def require_contiguous(idx: IntArray, *, name: str = "range") -> None:
    """Recursive charts (CUSUM, GLR, EWMA) run over consecutive time points only."""
    if idx.size > 1 and not np.all(np.diff(idx) == 1):
        raise DetectorParameterError(f"{name}: this method needs consecutive time points")


def check_probability(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise DetectorParameterError.of(
            "{name}: must lie strictly between 0 and 1, got {value}", name=name, value=value
        )
    return value


def check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise DetectorParameterError.of("{name}: must be an integer, got “{value}”", name=name, value=value)
    value = int(value)
    if value < minimum:
        raise DetectorParameterError.of(
            "{name}: must be at least {minimum}, got {value}", name=name, minimum=minimum, value=value
        )
    return value


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0.0 or (value == 0.0 and not allow_zero):
        template = (
            "{name}: must be a finite non-negative number, got {value}"
            if allow_zero
            else "{name}: must be a finite positive number, got {value}"
        )
        raise DetectorParameterError.of(template, name=name, value=value)
    return value


def check_choice(name: str, value: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        raise DetectorParameterError.of(
            "{name}: must be one of {options}; got “{value}”",
            name=name,
            options=", ".join(options),
            value=value,
        )
    return value


def exceedance_score(observed: FloatArray, expected: FloatArray, threshold: FloatArray) -> FloatArray:
    """Farrington's exceedance score ``(y - expected) / (threshold - expected)``: above 1 is beyond the bound.

    Undefined (NaN) where the threshold does not lie above the expectation.
    """
    span = threshold - expected
    out = np.full(observed.shape, np.nan)
    ok = span > 0
    out[ok] = (observed[ok] - expected[ok]) / span[ok]
    return out


def build_result(
    method: str,
    observed: FloatArray,
    idx: IntArray,
    *,
    expected: FloatArray,
    threshold: FloatArray,
    score: FloatArray,
    alarm: BoolArray,
    pvalue: FloatArray | None = None,
    params: dict[str, object],
) -> DetectionResult:
    """Spread per-judged-point arrays over the whole series (NaN / False where not judged)."""
    n = observed.shape[0]

    def spread(values: FloatArray) -> FloatArray:
        full = np.full(n, np.nan)
        full[idx] = values
        return full

    full_alarm = np.zeros(n, dtype=np.bool_)
    full_alarm[idx] = alarm
    judged = np.zeros(n, dtype=np.bool_)
    judged[idx] = True
    return DetectionResult(
        method=method,
        observed=observed,
        expected=spread(expected),
        threshold=spread(threshold),
        score=spread(score),
        alarm=full_alarm,
        judged=judged,
        pvalue=None if pvalue is None else spread(pvalue),
        params=params,
    )
