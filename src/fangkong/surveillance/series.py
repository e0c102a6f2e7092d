"""Series for the detectors: observations aggregated up the jurisdiction tree into an area x time matrix,
and one detector run over every row of it. Pure (numpy and the analytics library); no database.

An observation counts for the area whose path is a prefix of its own path (community -> township ->
county -> city -> province). Periods with no report count as 0 for channels that add up and are left
out of the mean for channels that average (0 if no sub-area reported).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fangkong.surveillance.fusion import prefixes

DAILY_FREQ = 365
"""time points a year of a daily series (R ``surveillance`` freq = 365)."""

WEEKLY_FREQ = 52
"""time points a year of a weekly series; R ``surveillance`` counts 52 weeks a year back."""

FloatMatrix = npt.NDArray[np.float64]


def period_dates(first: dt.date, last: dt.date, weekly: bool) -> list[dt.date]:
    """Consecutive period starts from ``first`` to ``last`` (both already period starts)."""
    step = 7 if weekly else 1
    count = (last - first).days // step + 1
    return [first + dt.timedelta(days=i * step) for i in range(max(count, 0))]


def area_index(paths: Sequence[str], area_paths: Sequence[str]) -> npt.NDArray[np.int64]:
    """For each path, the index of the area containing it, or -1 where none does."""
    position = {p: i for i, p in enumerate(area_paths)}
    cache: dict[str, int] = {}
    out = np.full(len(paths), -1, dtype=np.int64)
    for i, path in enumerate(paths):
        found = cache.get(path)
        if found is None:
            found = next((position[p] for p in prefixes(path) if p in position), -1)
            cache[path] = found
        out[i] = found
    return out


def aggregate(
    paths: Sequence[str],
    periods: Sequence[dt.date],
    values: Sequence[float],
    area_paths: Sequence[str],
    dates: Sequence[dt.date],
    *,
    mean: bool,
) -> FloatMatrix:
    """The (area, period) matrix of summed (or averaged) observations."""
    matrix = np.zeros((len(area_paths), len(dates)))
    if not paths or not dates:
        return matrix
    rows = area_index(paths, area_paths)
    first = dates[0]
    step = (dates[1] - dates[0]).days if len(dates) > 1 else 1
    offsets = np.fromiter(((p - first).days for p in periods), dtype=np.int64, count=len(periods))
    cols = offsets // step
    ok = (rows >= 0) & (cols >= 0) & (cols < len(dates)) & (offsets % step == 0)
    vals = np.asarray(values, dtype=np.float64)[ok]
    np.add.at(matrix, (rows[ok], cols[ok]), vals)
    if mean:
        counts = np.zeros_like(matrix)
        np.add.at(counts, (rows[ok], cols[ok]), 1.0)
        matrix = np.divide(matrix, counts, out=np.zeros_like(matrix), where=counts > 0)
    return matrix


@dataclass
class BatchOutcome:
    """A detector's verdicts for every area at the judged periods: arrays are (area, judged period)."""

    method: str
    judged_index: npt.NDArray[np.int64]
    observed: FloatMatrix
    expected: FloatMatrix
    threshold: FloatMatrix
    score: FloatMatrix
    pvalue: FloatMatrix
    alarm: npt.NDArray[np.bool_]
    judged: npt.NDArray[np.bool_]
    notes: list[str] = field(default_factory=list)


def detector_params(method: str, params: Mapping[str, object], weekly: bool, n: int) -> dict[str, object]:
    """Parameters converted once to the detector's types, with ``freq`` filled in from the channel."""
    from fangkong.analytics.detection.registry import DETECTORS, accepts_parameter, convert_params

    given = dict(params)
    if "freq" not in given and accepts_parameter(method, "freq"):
        given["freq"] = WEEKLY_FREQ if weekly else DAILY_FREQ
    given.pop("range", None)
    return convert_params(method, DETECTORS[method], given, n)


def detect_many(
    method: str,
    params: Mapping[str, object],
    matrix: FloatMatrix,
    judged_index: npt.NDArray[np.int64],
    dates: Sequence[dt.date],
    *,
    weekly: bool,
) -> BatchOutcome:
    """Run ``method`` on every row of ``matrix`` and keep its verdicts at ``judged_index``.

    Parameter errors (``DetectorParameterError`` while converting) propagate: they are the
    configuration's fault. A series the method cannot judge (too little history, or a model fit that
    fails on it) is left unjudged with a note, so one odd series never stops the run.
    """
    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.registry import DETECTORS

    areas, n = matrix.shape
    shape = (areas, judged_index.shape[0])
    out = BatchOutcome(
        method=method,
        judged_index=judged_index,
        observed=matrix[:, judged_index] if n else np.zeros(shape),
        expected=np.full(shape, np.nan),
        threshold=np.full(shape, np.nan),
        score=np.full(shape, np.nan),
        pvalue=np.full(shape, np.nan),
        alarm=np.zeros(shape, dtype=np.bool_),
        judged=np.zeros(shape, dtype=np.bool_),
    )
    if areas == 0 or judged_index.size == 0:
        return out
    converted = detector_params(method, params, weekly, n)
    if method in ("farrington", "farrington_flexible"):
        converted.setdefault("dates", [d.isoformat() for d in dates])
    if method == "farrington_flexible":
        from fangkong.analytics.detection.farrington import farrington_flexible_many

        try:
            batch = farrington_flexible_many(matrix, **converted, range=judged_index)
        except (ValueError, ArithmeticError) as exc:
            out.notes.append(str(exc))
            return out
        _fill(
            out,
            slice(None),
            batch.expected,
            batch.threshold,
            batch.score,
            batch.pvalue,
            batch.alarm,
            batch.judged,
        )
        return out
    from fangkong.analytics.detection.batch import BATCHED, detect_batch

    if method in BATCHED:
        # Every area in one call of the batched kernel (issue 18: the per-call cost dominated).
        try:
            batched = detect_batch(method, matrix, **converted, range=judged_index)
        except (ValueError, ArithmeticError) as exc:
            out.notes.append(
                str(exc) if isinstance(exc, DetectorParameterError) else f"{type(exc).__name__}: {exc}"
            )
            return out
        for note in batched.notes:
            message = note.split(": ", 1)[1] if note.startswith("series ") else note
            if message not in out.notes:
                out.notes.append(message)
        # Columns of the batch for each judged period (a row it could not judge stays unjudged).
        at = np.searchsorted(batched.index, judged_index)
        found = at < batched.index.shape[0]
        found[found] = batched.index[at[found]] == judged_index[found]
        cols, at = np.flatnonzero(found), at[found]
        out.expected[:, cols] = batched.expected[:, at]
        out.threshold[:, cols] = batched.threshold[:, at]
        out.score[:, cols] = batched.score[:, at]
        if batched.pvalue is not None:
            out.pvalue[:, cols] = batched.pvalue[:, at]
        out.alarm[:, cols] = batched.alarm[:, at]
        out.judged[:, cols] = batched.judged[:, at]
        return out
    function = DETECTORS[method]
    for row in range(areas):
        try:
            result = function(matrix[row], **converted, range=judged_index)
        except (ValueError, ArithmeticError) as exc:
            # DetectorParameterError (too little history) and failed fits (numpy's LinAlgError) alike.
            message = str(exc) if isinstance(exc, DetectorParameterError) else f"{type(exc).__name__}: {exc}"
            if message not in out.notes:
                out.notes.append(message)
            continue
        _fill(
            out,
            row,
            result.expected,
            result.threshold,
            result.score,
            result.pvalue,
            result.alarm,
            result.judged,
        )
    return out


def _fill(
    out: BatchOutcome,
    row: int | slice,
    expected: npt.ArrayLike,
    threshold: npt.ArrayLike,
    score: npt.ArrayLike,
    pvalue: npt.ArrayLike | None,
    alarm: npt.ArrayLike,
    judged: npt.ArrayLike,
) -> None:
    idx = out.judged_index
    out.expected[row] = np.asarray(expected)[..., idx]
    out.threshold[row] = np.asarray(threshold)[..., idx]
    out.score[row] = np.asarray(score)[..., idx]
    if pvalue is not None:
        out.pvalue[row] = np.asarray(pvalue)[..., idx]
    out.alarm[row] = np.asarray(alarm, dtype=np.bool_)[..., idx]
    out.judged[row] = np.asarray(judged, dtype=np.bool_)[..., idx]
