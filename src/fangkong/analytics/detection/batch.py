"""Detectors over many series per call: a (series, time) matrix in, one verdict per series and point out.

The scheduled run judges the latest day (or week) of thousands of series with the same method and
parameters; an analyst's first look judges every day of each. Calling the per-series detector once
per series spends most of its time in Python per call (checks, argument handling, small arrays).
:func:`detect_batch` takes the whole matrix, checks the parameters once, and computes every row in
vectorised numpy or compiled loops (``_batch_kernels``):

* EARS C1/C2/C3: the reference windows' mean and sd for the judged points only;
* CUSUM: the phase-1 means and the chart for all rows at once (a seasonal ``m="glm"`` is fitted per
  row in compiled code);
* Bayes and RKI: the reference sets summed in compiled code; the Bayes bound is computed once per
  distinct reference sum;
* CDC: the 4-week block sums from running sums, their mean and sd in compiled code;
* GLR-NB (``ret="value"``): the in-control model fitted per row in compiled code and the chart,
  restarts included, run for every row in one compiled call.

Every other method (and GLR-NB ``ret="cases"`` or an estimated ``alpha``) runs the per-series
detector row by row, so :func:`detect_batch` accepts every temporal method name of the registry
except the Farrington pair (see ``farrington.farrington_flexible_many``).

All rows share the judged points (``range``, 0-based, as the per-series detectors take it). A row
that cannot be judged (a value that is not a count, a model fit that fails) is left unjudged and
named in ``notes``; a parameter error is raised for the whole batch, as it would be for every row.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import special

from fangkong.analytics.detection import _batch_kernels as kernels
from fangkong.analytics.detection._common import (
    IntArray,
    RangeSpec,
    build_result,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    exceedance_score,
    require_contiguous,
    resolve_range,
)
from fangkong.analytics.detection._history import earliest_judgeable, reference_offsets
from fangkong.analytics.detection._seasonal_glm import (
    IRLS_MAX_ITERATIONS,
    IRLS_TOLERANCE,
    RATE_FLOOR,
    log_link_mean,
    seasonal_design,
)
from fangkong.analytics.detection.base import BoolArray, DetectionResult, DetectorParameterError, FloatArray
from fangkong.analytics.detection.cusum import default_phase1_length
from fangkong.analytics.detection.poisson_ci import upper_limit_table

BATCHED = ("ears_c1", "ears_c2", "ears_c3", "cusum", "bayes", "rki", "cdc", "glrnb")
"""Methods with a kernel over many series; every other method runs its per-series detector per row."""


@dataclass(frozen=True)
class BatchResult:
    """Verdicts for every row at the judged points ``index`` (0-based, shared by all rows).

    Arrays are (series, len(index)); ``judged`` is False for a row the method could not judge (see
    ``notes``) and everywhere the per-series detector leaves a point unjudged.
    """

    method: str
    index: IntArray
    observed: FloatArray
    expected: FloatArray
    threshold: FloatArray
    score: FloatArray
    alarm: BoolArray
    judged: BoolArray
    pvalue: FloatArray | None = None
    params: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self, i: int, observed: npt.ArrayLike) -> DetectionResult:
        """Row ``i`` as the per-series detector returns it, over the whole series ``observed``."""
        y = np.asarray(observed, dtype=np.float64)
        ok = self.judged[i]
        idx = self.index[ok]
        result = build_result(
            self.method,
            y,
            idx,
            expected=self.expected[i, ok],
            threshold=self.threshold[i, ok],
            score=self.score[i, ok],
            alarm=self.alarm[i, ok],
            pvalue=None if self.pvalue is None else self.pvalue[i, ok],
            params=dict(self.params),
        )
        return result


@dataclass
class _Rows:
    """The checked matrix: rows that are not series of counts are zeroed and marked unusable."""

    values: FloatArray
    usable: BoolArray
    notes: list[str]


def _matrix(counts: npt.ArrayLike) -> FloatArray:
    y = np.ascontiguousarray(counts, dtype=np.float64)
    if y.ndim != 2:
        raise DetectorParameterError(f"observed: expected a (series, time) matrix, got shape {y.shape}")
    if y.shape[1] == 0:
        raise DetectorParameterError("observed: the series is empty")
    return y


def _check_rows(
    y: FloatArray, *, non_negative: bool, columns: IntArray, first_bad: IntArray | None = None
) -> _Rows:
    """Rows whose values at ``columns`` (the time points the method reads) are all counts.

    Only the values a method reads are checked, so a latest-day run does not scan whole histories;
    a row with a bad value there is left unjudged and named in the notes. ``first_bad`` is the
    check already made (the first bad column of each row, -1 if none).
    """
    if first_bad is None:
        first_bad = kernels.first_bad_values(y, np.ascontiguousarray(columns, dtype=np.int64), non_negative)
    usable: BoolArray = first_bad < 0
    notes: list[str] = []
    if not usable.all():
        y = y.copy()  # the caller's matrix is never changed
        for r in np.flatnonzero(~usable):
            at = int(first_bad[r])
            what = "is not a finite number" if not np.isfinite(y[r, at]) else "is negative"
            notes.append(f"series {int(r)}: observed: value at index {at} {what}")
            y[r] = 0.0
    return _Rows(y, usable, notes)


def _columns(idx: IntArray, offsets: IntArray) -> IntArray:
    """The time points read when judging ``idx`` with a reference set at ``offsets``."""
    used: IntArray = np.unique((idx[:, None] + np.append(offsets, 0)[None, :]).ravel())
    return used


def _result(
    method: str,
    rows: _Rows,
    idx: IntArray,
    *,
    expected: FloatArray,
    threshold: FloatArray,
    score: FloatArray,
    alarm: BoolArray,
    pvalue: FloatArray | None,
    params: dict[str, object],
    usable: BoolArray | None = None,
    notes: list[str] | None = None,
) -> BatchResult:
    ok = rows.usable if usable is None else rows.usable & usable
    shape = (ok.shape[0], idx.shape[0])
    if ok.all():
        judged = np.ones(shape, dtype=np.bool_)
    else:
        judged = np.repeat(ok[:, None], idx.shape[0], axis=1)
        alarm = alarm & judged

    def blank(values: FloatArray) -> FloatArray:
        if ok.all():
            return values
        out = values.copy()
        out[~ok] = np.nan
        return out

    contiguous = idx.shape[0] > 0 and int(idx[-1]) - int(idx[0]) + 1 == idx.shape[0]
    return BatchResult(
        method=method,
        index=idx,
        observed=rows.values[:, idx[0] : idx[-1] + 1] if contiguous else rows.values[:, idx],
        expected=blank(expected),
        threshold=blank(threshold),
        score=blank(score),
        alarm=alarm,
        judged=judged,
        pvalue=None if pvalue is None else blank(pvalue),
        params=params,
        notes=[*rows.notes, *(notes or [])],
    )


def _ears(method: str, counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    from fangkong.analytics.detection import ears

    y = _matrix(counts)
    alpha, baseline, min_sigma = ears._checked(
        float(params.pop("alpha", ears.EARS_ALPHA_C3 if method == "ears_c3" else ears.EARS_ALPHA_C1_C2)),  # type: ignore[arg-type]
        params.pop("baseline", ears.EARS_BASELINE_DAYS),  # type: ignore[arg-type]
        float(params.pop("minSigma", ears.EARS_MIN_SIGMA)),  # type: ignore[arg-type]
    )
    rule = (
        check_choice("rule", str(params.pop("rule", "r")), ("r", "textbook")) if method == "ears_c3" else ""
    )
    range_spec: RangeSpec = params.pop("range", None)  # type: ignore[assignment]
    _no_more(method, params)
    lag = 1 if method == "ears_c1" else ears.EARS_GUARD_DAYS + 1
    extra = 2 if method == "ears_c3" else 0
    idx = resolve_range(range_spec, y.shape[1], baseline + lag - 1 + extra)
    z = float(special.ndtri(1.0 - alpha))
    span = np.unique(np.concatenate([idx - 2, idx - 1, idx])) if method == "ears_c3" else idx
    rows = _check_rows(y, non_negative=False, columns=_columns(span, -np.arange(lag, lag + baseline)))
    y = rows.values
    mean, sd = kernels.window_mean_sd(y, span - lag - baseline + 1, baseline)
    sigma = np.maximum(sd, min_sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_all = (y[:, span] - mean) / sigma
    used: dict[str, object] = {"alpha": alpha, "baseline": baseline, "minSigma": min_sigma}
    if method != "ears_c3":
        values = y[:, idx]
        upper = mean + z * sigma
        return _result(
            method,
            rows,
            idx,
            expected=mean,
            threshold=upper,
            score=s_all,
            alarm=values > upper,
            pvalue=special.ndtr(-s_all),
            params=used,
        )
    at = np.searchsorted(span, idx)
    excess = np.maximum(0.0, s_all - 1.0)
    lagged = excess[:, at - 2] + excess[:, at - 1]
    values = y[:, idx]
    mean_t, sigma_t = mean[:, at], sigma[:, at]
    with np.errstate(invalid="ignore"):
        if rule == "r":
            upper = np.maximum(0.0, values + sigma_t * (z - lagged))
            alarm = values > upper
            score = lagged
        else:
            score = lagged + excess[:, at]
            alarm = score > z
            upper = np.where(lagged > z, -np.inf, mean_t + sigma_t * (1.0 + z - lagged))
    return _result(
        method,
        rows,
        idx,
        expected=mean_t,
        threshold=upper,
        score=score,
        alarm=alarm,
        pvalue=None,
        params={**used, "rule": rule},
    )


def _no_more(method: str, params: dict[str, object]) -> None:
    if params:
        raise DetectorParameterError.of(
            "{key}: unknown parameter of {method}", key=", ".join(sorted(params)), method=method
        )


def _cusum(counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    from fangkong.analytics.detection import cusum as module

    y = _matrix(counts)
    n = y.shape[1]
    k = check_positive("k", params.pop("k", module.CUSUM_K), allow_zero=True)  # type: ignore[arg-type]
    h = check_positive("h", params.pop("h", module.CUSUM_H))  # type: ignore[arg-type]
    alpha = check_positive("alpha", params.pop("alpha", module.CUSUM_NB_ALPHA), allow_zero=True)  # type: ignore[arg-type]
    freq = check_int("freq", params.pop("freq", module.CUSUM_FREQ), 1)  # type: ignore[arg-type]
    trans = check_choice("trans", str(params.pop("trans", "standard")), module.TRANSFORMS)
    m = params.pop("m", None)
    range_spec: RangeSpec = params.pop("range", None)  # type: ignore[assignment]
    _no_more("cusum", params)
    if isinstance(m, str) and m != "glm":
        raise DetectorParameterError(
            f"m: must be a number, 'glm' or left out for the phase-1 mean; got {m!r}"
        )
    needs_phase1 = m is None or m == "glm"
    first = (module.GLM_SEASONAL_TERMS + 1 if m == "glm" else 1) if needs_phase1 else 0
    if range_spec is None and needs_phase1:
        idx = resolve_range(None, n, max(first, default_phase1_length(n, freq)))
    else:
        idx = resolve_range(range_spec, n, first)
    require_contiguous(idx)
    start = int(idx[0])
    # The check of every value read and the phase-1 sums in one pass over the matrix.
    first_bad, total, whole = kernels.phase1_sums(y, start, int(idx[-1]))
    rows = _check_rows(y, non_negative=True, columns=np.arange(int(idx[-1]) + 1), first_bad=first_bad)
    y = rows.values
    fit_ok: BoolArray | None = None
    notes: list[str] = []
    if m is None:
        # A sum of whole numbers is exact, so it equals numpy's mean; other rows are averaged by numpy.
        phase1 = total / start
        inexact = np.flatnonzero(~whole)
        phase1[inexact] = y[inexact, :start].mean(axis=1)
        mean = phase1[:, None]
    elif m == "glm":
        train_t = np.arange(1, start + 1, dtype=np.float64)
        mean, fit_ok, notes = _fitted_means(
            seasonal_design(train_t, freq, 1, False),
            seasonal_design(idx.astype(np.float64) + 1.0, freq, 1, False),
            y[:, :start],
            None,
        )
    else:
        mean = np.full((y.shape[0], 1), check_positive("m", float(m)))  # type: ignore[arg-type]
    chart, upper, alarm = kernels.cusum_rows(
        y, start, idx.shape[0], np.ascontiguousarray(mean), kernels.CUSUM_TRANSFORMS.index(trans), k, h, alpha
    )
    # One in-control mean per row is shown at every judged point without copying it out.
    mean = np.broadcast_to(mean, chart.shape)
    return _result(
        "cusum",
        rows,
        idx,
        expected=mean,
        threshold=upper,
        score=chart,
        alarm=alarm,
        pvalue=None,
        params={"k": k, "h": h, "m": m, "trans": trans, "alpha": alpha, "freq": freq},
        usable=fit_ok,
        notes=notes,
    )


def _fitted_means(
    design: FloatArray, target: FloatArray, y: FloatArray, theta: float | None
) -> tuple[FloatArray, BoolArray, list[str]]:
    """Per-row log-link GLM fits on the shared design, predicted at ``target``; R's warnings kept."""
    if design.shape[0] <= design.shape[1]:
        raise DetectorParameterError(
            f"range: {design.shape[0]} time points before monitoring are too few to fit "
            f"{design.shape[1]} coefficients"
        )
    beta, status = kernels.fit_log_glm_rows(
        design, y, -1.0 if theta is None else theta, IRLS_TOLERANCE, IRLS_MAX_ITERATIONS, RATE_FLOOR
    )
    ok = status != kernels.FIT_SINGULAR
    means = log_link_mean(beta @ target.T)
    notes = [f"series {int(r)}: the in-control model could not be fitted" for r in np.flatnonzero(~ok)]
    not_converged = int(np.sum(status == kernels.FIT_NOT_CONVERGED))
    if not_converged:
        warnings.warn(
            f"glm fit: algorithm did not converge ({not_converged} series)", RuntimeWarning, stacklevel=4
        )
    floored = int(np.sum(np.any(means <= RATE_FLOOR, axis=1) & ok))
    if floored:
        warnings.warn(
            f"glm fit: fitted rates numerically 0 occurred ({floored} series)", RuntimeWarning, stacklevel=4
        )
    return means, ok, notes


def _year_back(method: str, counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    """Bayes and RKI: the reference set of the recent past and the same season of past years."""
    from fangkong.analytics.detection import bayes as bayes_module
    from fangkong.analytics.detection import rki as rki_module

    y = _matrix(counts)
    presets = bayes_module.BAYES_PRESETS if method == "bayes" else rki_module.RKI_PRESETS
    default_preset = "bayes1" if method == "bayes" else "rki3"
    preset = check_choice("preset", str(params.pop("preset", default_preset)), presets)
    pb, pw, pact = presets[preset]
    b = params.pop("b", None)
    w = params.pop("w", None)
    act = params.pop("actY", None)
    b_used = pb if b is None else b
    w_used = pw if w is None else w
    act_used = pact if act is None else bool(act)
    freq = params.pop("freq", bayes_module.BAYES_FREQ if method == "bayes" else rki_module.RKI_FREQ)
    alpha = (
        check_probability("alpha", params.pop("alpha", bayes_module.BAYES_ALPHA))  # type: ignore[arg-type]
        if method == "bayes"
        else 0.0
    )
    range_spec: RangeSpec = params.pop("range", None)  # type: ignore[assignment]
    _no_more(method, params)
    offsets = reference_offsets(b_used, w_used, act_used, freq)  # type: ignore[arg-type]
    idx = resolve_range(range_spec, y.shape[1], earliest_judgeable(offsets))
    rows = _check_rows(y, non_negative=True, columns=_columns(idx, offsets))
    y = rows.values
    values = y[:, idx]
    used: dict[str, object] = {"preset": preset, "b": b_used, "w": w_used, "actY": act_used}
    if method == "rki":
        mean, sd = kernels.reference_mean_sd(y, idx, offsets)
        normal = mean > rki_module.RKI_NORMAL_ABOVE
        table = upper_limit_table(int(rki_module.RKI_NORMAL_ABOVE))
        small = np.floor(np.where(normal, 0.0, mean)).astype(np.int64)
        upper = np.where(normal, mean + rki_module.RKI_SD_MULTIPLIER * sd, table[small])
        return _result(
            "rki",
            rows,
            idx,
            expected=mean,
            threshold=upper,
            score=exceedance_score(values, mean, upper),
            alarm=values > upper,
            pvalue=None,
            params={**used, "freq": freq},
        )
    total = kernels.reference_sums(y, idx, offsets)
    count = float(offsets.shape[0])
    size = total + bayes_module.BAYES_PRIOR_SHAPE
    prob = count / (count + 1.0)
    expected = size / count
    ceiling = np.ceil(values)
    upper, pvalue = _bayes_tables(total, ceiling, alpha, prob)
    return _result(
        "bayes",
        rows,
        idx,
        expected=expected,
        threshold=upper,
        score=exceedance_score(values, expected, upper),
        alarm=values > upper,
        pvalue=pvalue,
        params={**used, "alpha": alpha, "freq": freq},
    )


def _cdc(counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    from fangkong.analytics.detection import cdc as module

    y = _matrix(counts)
    b = check_int("b", params.pop("b", module.CDC_YEARS_BACK), 1)  # type: ignore[arg-type]
    m = check_int("m", params.pop("m", module.CDC_BLOCKS_EACH_SIDE), 0)  # type: ignore[arg-type]
    alpha = check_probability("alpha", params.pop("alpha", module.CDC_ALPHA))  # type: ignore[arg-type]
    freq = check_int("freq", params.pop("freq", module.CDC_FREQ), 1)  # type: ignore[arg-type]
    range_spec: RangeSpec = params.pop("range", None)  # type: ignore[assignment]
    _no_more("cdc", params)
    block = module.BLOCK_WEEKS
    block_starts = np.arange(-block * m - (block - 1), block * m + 1, block)
    years = np.arange(1, b + 1)
    starts = (-years[:, None] * freq + block_starts[None, :]).ravel().astype(np.int64)
    idx = resolve_range(range_spec, y.shape[1], max(int(-starts.min()), block - 1))
    read = np.concatenate([starts + i for i in range(block)] + [-np.arange(block)])
    rows = _check_rows(y, non_negative=True, columns=_columns(idx, read))
    y = rows.values
    # cum[:, i] = y[:, 0] + ... + y[:, i-1]; only the columns up to the last judged point are needed.
    cum = np.zeros((y.shape[0], int(idx[-1]) + 2))
    np.cumsum(y[:, : int(idx[-1]) + 1], axis=1, out=cum[:, 1:])
    z = float(special.ndtri(1.0 - alpha / 2.0))
    mean, sd = kernels.block_mean_sd(cum, idx, starts, block)
    upper = mean + z * sd * np.sqrt(1.0 + 1.0 / starts.shape[0])
    current = cum[:, idx + 1] - cum[:, idx + 1 - block]
    return _result(
        "cdc",
        rows,
        idx,
        expected=mean,
        threshold=upper,
        score=current,
        alarm=current > upper,
        pvalue=None,
        params={"b": b, "m": m, "alpha": alpha, "freq": freq},
    )


PAIR_TABLE_LIMIT = 1 << 24
"""largest (count, reference sum) table the Bayes p-values are looked up in (128 MB of float64)."""


def _bayes_tables(
    total: FloatArray, ceiling: FloatArray, alpha: float, prob: float
) -> tuple[FloatArray, FloatArray]:
    """Bayes bound and p-value for every reference sum ``total`` and count (rounded up) ``ceiling``.

    The bound depends on the sum alone and the p-value on the sum and the count. With whole counts
    both take few distinct values, so each is computed once per value and looked up; otherwise they
    are computed at every point, as the per-series detector does.
    """
    from fangkong.analytics.detection.bayes import BAYES_PRIOR_SHAPE, negbin_quantile

    size = total + BAYES_PRIOR_SHAPE
    whole = total.astype(np.int64)
    if total.size == 0 or not np.array_equal(whole, total):
        tail = special.betainc(np.maximum(ceiling, 1.0), size, 1.0 - prob)
        return negbin_quantile(1.0 - alpha, size, prob), np.where(ceiling <= 0, 1.0, tail)
    sums = int(whole.max()) + 1
    seen = np.zeros(sums, dtype=np.bool_)
    seen[whole.ravel()] = True
    distinct = np.flatnonzero(seen)
    bound_of_sum = np.empty(sums)
    bound_of_sum[distinct] = negbin_quantile(
        1.0 - alpha, distinct.astype(np.float64) + BAYES_PRIOR_SHAPE, prob
    )
    upper: FloatArray = bound_of_sum[whole]
    counts = ceiling.astype(np.int64)
    if (int(counts.max()) + 1) * sums > PAIR_TABLE_LIMIT:
        tail = special.betainc(np.maximum(ceiling, 1.0), size, 1.0 - prob)
        return upper, np.where(ceiling <= 0, 1.0, tail)
    key = counts * sums + whole
    present = np.zeros((int(counts.max()) + 1) * sums, dtype=np.bool_)
    present[key.ravel()] = True
    keys = np.flatnonzero(present)
    key_count = (keys // sums).astype(np.float64)
    key_size = (keys % sums) + BAYES_PRIOR_SHAPE
    table = np.empty(present.shape[0])
    tail = special.betainc(np.maximum(key_count, 1.0), key_size, 1.0 - prob)
    table[keys] = np.where(key_count <= 0, 1.0, tail)
    pvalue: FloatArray = table[key]
    return upper, pvalue


def _glrnb(counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    from fangkong.analytics.detection import glrnb as module

    if params.get("ret", "value") != "value" or params.get("alpha", module.GLR_ALPHA) is None:
        return _per_series("glrnb", counts, params)
    y = _matrix(counts)
    n = y.shape[1]
    c_arl = check_positive("c_ARL", params.pop("c_ARL", module.GLR_C_ARL))  # type: ignore[arg-type]
    mtilde = check_int("Mtilde", params.pop("Mtilde", module.GLR_MTILDE), 1)  # type: ignore[arg-type]
    big_m = check_int("M", params.pop("M", module.GLR_M), -1)  # type: ignore[arg-type]
    if big_m != -1 and mtilde > big_m:
        raise DetectorParameterError(f"M: must be -1 (no window) or at least Mtilde={mtilde}; got {big_m}")
    dir_name = check_choice("dir", str(params.pop("dir", "inc")), ("inc", "dec"))
    direction = 1 if dir_name == "inc" else -1
    params.pop("ret", None)
    harmonics = check_int("S", params.pop("S", module.GLR_HARMONICS), 0)  # type: ignore[arg-type]
    freq = check_int("freq", params.pop("freq", module.GLR_FREQ), 1)  # type: ignore[arg-type]
    check_int("xMax", params.pop("xMax", module.GLR_X_MAX), 1)  # type: ignore[arg-type]
    params.pop("cases_from_zero", None)
    alpha = check_positive("alpha", params.pop("alpha", module.GLR_ALPHA), allow_zero=True)  # type: ignore[arg-type]
    theta = params.pop("theta", None)
    if theta is not None and (not np.isfinite(theta) or theta == 0):  # type: ignore[call-overload]
        raise DetectorParameterError(f"theta: the change to detect must be a non-zero number; got {theta}")
    trend = bool(params.pop("trend", False))
    mu0 = params.pop("mu0", None)
    range_spec: RangeSpec = params.pop("range", None)  # type: ignore[assignment]
    _no_more("glrnb", params)
    fitted = mu0 is None
    min_phase1 = 2 + 2 * harmonics + int(trend)
    if range_spec is None and fitted:
        idx = resolve_range(None, n, max(min_phase1, default_phase1_length(n, freq)))
    else:
        idx = resolve_range(range_spec, n, min_phase1 if fitted else 0)
    require_contiguous(idx)
    rows = _check_rows(y, non_negative=True, columns=np.arange(int(idx[-1]) + 1))
    y = rows.values
    fit_ok: BoolArray | None = None
    notes: list[str] = []
    if fitted:
        start = int(idx[0])
        means, fit_ok, notes = _fitted_means(
            seasonal_design(np.arange(1, start + 1, dtype=np.float64), freq, harmonics, trend),
            seasonal_design(idx.astype(np.float64) + 1.0, freq, harmonics, trend),
            y[:, :start],
            None if alpha == 0 else 1.0 / alpha,
        )
    else:
        given, _ = module._resolve_mu0(y[0], idx, mu0, alpha, harmonics, trend, freq)  # type: ignore[arg-type]
        means = np.repeat(given[None, :], y.shape[0], axis=0)
    if theta is None:
        kind = kernels.GLR_POISSON if alpha == 0 else kernels.GLR_NEGBIN
    else:
        kind = kernels.LR_POISSON if alpha == 0 else kernels.LR_NEGBIN
    # R hands the counts to C through as.integer(), i.e. truncated.
    score, alarm = kernels.glr_chart_rows(
        y[:, idx].astype(np.int64),
        np.ascontiguousarray(means),
        kind,
        alpha,
        big_m,
        mtilde,
        c_arl,
        direction,
        0.0 if theta is None else float(theta),  # type: ignore[arg-type]
    )
    return _result(
        "glrnb",
        rows,
        idx,
        expected=means,
        threshold=np.full(score.shape, np.nan),
        score=score,
        alarm=alarm,
        pvalue=None,
        params={
            "c_ARL": c_arl,
            "alpha": alpha,
            "Mtilde": mtilde,
            "M": big_m,
            "theta": theta,
            "dir": dir_name,
            "ret": "value",
            "S": harmonics,
            "trend": trend,
            "freq": freq,
            "mu0": "fitted" if fitted else "given",
        },
        usable=fit_ok,
        notes=notes,
    )


def _per_series(method: str, counts: npt.ArrayLike, params: dict[str, object]) -> BatchResult:
    """The per-series detector on each row; rows it refuses are left unjudged with a note."""
    from fangkong.analytics.detection.registry import DETECTORS

    y = np.asarray(counts, dtype=np.float64)
    if y.ndim != 2:
        raise DetectorParameterError(f"observed: expected a (series, time) matrix, got shape {y.shape}")
    function = DETECTORS[method]
    results: list[DetectionResult | None] = []
    notes: list[str] = []
    first_error: Exception | None = None
    for r in np.arange(y.shape[0]):
        try:
            results.append(function(y[r], **params))
        except (ValueError, ArithmeticError) as exc:
            # Too little history, a bad value or a fit that fails on this row: the row stays unjudged.
            first_error = first_error or exc
            message = str(exc) if isinstance(exc, DetectorParameterError) else f"{type(exc).__name__}: {exc}"
            notes.append(f"series {int(r)}: {message}")
            results.append(None)
    if y.shape[0] and all(res is None for res in results) and isinstance(first_error, DetectorParameterError):
        raise first_error  # every row refused: the parameters' fault, as for one series
    done = [res for res in results if res is not None]
    judged_any = np.any([res.judged for res in done], axis=0) if done else np.zeros(y.shape[1], np.bool_)
    idx = np.flatnonzero(judged_any).astype(np.int64)
    shape = (y.shape[0], idx.shape[0])
    out = {name: np.full(shape, np.nan) for name in ("expected", "threshold", "score", "pvalue")}
    alarm = np.zeros(shape, dtype=np.bool_)
    judged = np.zeros(shape, dtype=np.bool_)
    has_pvalue = False
    for row, res in enumerate(results):
        if res is None:
            continue
        out["expected"][row] = res.expected[idx]
        out["threshold"][row] = res.threshold[idx]
        out["score"][row] = res.score[idx]
        if res.pvalue is not None:
            has_pvalue = True
            out["pvalue"][row] = res.pvalue[idx]
        alarm[row] = res.alarm[idx]
        judged[row] = res.judged[idx]
    return BatchResult(
        method=method,
        index=idx,
        observed=y[:, idx],
        expected=out["expected"],
        threshold=out["threshold"],
        score=out["score"],
        alarm=alarm,
        judged=judged,
        pvalue=out["pvalue"] if has_pvalue else None,
        params=dict(done[0].params) if done else {},
        notes=notes,
    )


_KERNELS: dict[str, Callable[[npt.ArrayLike, dict[str, object]], BatchResult]] = {
    "ears_c1": lambda counts, params: _ears("ears_c1", counts, params),
    "ears_c2": lambda counts, params: _ears("ears_c2", counts, params),
    "ears_c3": lambda counts, params: _ears("ears_c3", counts, params),
    "cusum": _cusum,
    "bayes": lambda counts, params: _year_back("bayes", counts, params),
    "rki": lambda counts, params: _year_back("rki", counts, params),
    "glrnb": _glrnb,
    "cdc": _cdc,
}


def detect_batch(method: str, counts: npt.ArrayLike, /, **params: object) -> BatchResult:
    """Run ``method`` on every row of the (series, time) matrix ``counts`` with the same parameters.

    ``params`` are those of the per-series detector, already typed (``registry.convert_params``).
    """
    if method in ("farrington", "farrington_flexible"):
        raise DetectorParameterError(
            "method: use farrington.farrington_flexible_many for the Farrington methods"
        )
    kernel = _KERNELS.get(method)
    if kernel is None:
        from fangkong.analytics.detection.registry import METHOD_NAMES

        if method not in METHOD_NAMES:
            raise DetectorParameterError(f"method: unknown method {method!r}")
        return _per_series(method, counts, dict(params))
    return kernel(counts, dict(params))
