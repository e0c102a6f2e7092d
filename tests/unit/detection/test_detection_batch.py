"""The batched detectors (``batch.detect_batch``) give each series the per-series detector's verdicts.

Random count series, several parameter sets and ranges (the whole history, the latest point, a
window): the alarms must be the same and the numbers equal to rounding. Also: bad rows are left
unjudged without disturbing the others, the pruned Poisson GLR chart equals the plain one, and
GLR-NB on RKI's m5 series from week 60 warns and answers as R does.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.analytics.detection import _batch_kernels, _glr_kernels
from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.batch import BATCHED, detect_batch
from fangkong.analytics.detection.glrnb import glrnb
from fangkong.analytics.detection.registry import DETECTORS

WEEKS = 260
M5 = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance_eval" / "m5.csv"

CASES: list[tuple[str, dict[str, object]]] = [
    ("ears_c1", {}),
    ("ears_c2", {"alpha": 0.01, "baseline": 10}),
    ("ears_c3", {}),
    ("ears_c3", {"rule": "textbook", "minSigma": 0.5}),
    ("cusum", {"freq": 52}),
    ("cusum", {"freq": 52, "m": "glm"}),
    ("cusum", {"freq": 52, "trans": "rossi"}),
    ("cusum", {"freq": 52, "trans": "anscombe2nd", "m": 4.0}),
    ("cusum", {"freq": 52, "trans": "pearsonNegBin"}),
    ("bayes", {"freq": 52}),
    ("bayes", {"freq": 52, "preset": "bayes3", "alpha": 0.01}),
    ("rki", {"freq": 52}),
    ("rki", {"freq": 52, "preset": "rki1"}),
    ("cdc", {"freq": 52, "b": 3}),
    ("cdc", {"freq": 52, "b": 2, "m": 2}),
    ("glrnb", {"freq": 52}),
    ("glrnb", {"freq": 52, "alpha": 0.2}),
    ("glrnb", {"freq": 52, "alpha": 0.1, "M": 20}),
    ("glrnb", {"freq": 52, "dir": "dec", "S": 2, "trend": True}),
    ("glrnb", {"mu0": 4.0, "theta": 0.7}),
    ("glrnb", {"mu0": 4.0, "theta": 0.7, "alpha": 0.3}),
    ("glrnb", {"freq": 52, "ret": "cases"}),
    ("ewma", {}),
    ("mpm", {"freq": 52}),
    ("fixed", {"threshold": 9}),
]
RANGES: list[Callable[[int], np.ndarray | None]] = [
    lambda n: None,
    lambda n: np.array([n - 1]),
    lambda n: np.arange(n - 60, n),
]


def _series(seed: int, rows: int = 12, n: int = WEEKS) -> np.ndarray:
    """Counts of varied levels, some overdispersed and with a late rise, as real channels are."""
    rng = np.random.default_rng(seed)
    level = np.exp(rng.normal(1.2, 1.0, size=(rows, 1)))
    season = 1.0 + 0.4 * np.cos(2 * np.pi * np.arange(n) / 52)
    mu = level * season
    y = rng.negative_binomial(3.0, 3.0 / (3.0 + mu)).astype(np.float64)
    y[0] = 0.0  # a silent area
    y[1, -20:] += 15  # an outbreak at the end
    return y


def _compare(name: str, params: dict[str, object], y: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = detect_batch(name, y, **params)
        for r in range(y.shape[0]):
            try:
                single = DETECTORS[name](y[r], **params)
            except DetectorParameterError:
                assert not batch.judged[r].any()
                continue
            np.testing.assert_array_equal(np.flatnonzero(single.judged), batch.index)
            assert batch.judged[r].all()
            np.testing.assert_array_equal(
                batch.alarm[r], single.alarm[batch.index], err_msg=f"{name} row {r}"
            )
            for field in ("expected", "threshold", "score", "pvalue"):
                ours, theirs = getattr(batch, field), getattr(single, field)
                if theirs is None:
                    assert ours is None
                    continue
                np.testing.assert_allclose(ours[r], theirs[batch.index], rtol=1e-9, atol=1e-9, err_msg=field)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("make_range", RANGES, ids=["history", "latest", "window"])
def test_batch_gives_each_series_the_per_series_verdicts(
    name: str, params: dict[str, object], make_range: Callable[[int], np.ndarray | None]
) -> None:
    y = _series(7)
    chosen = make_range(y.shape[1])
    _compare(name, params if chosen is None else {**params, "range": chosen}, y)


@pytest.mark.parametrize("name", BATCHED)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), extra=st.integers(min_value=0, max_value=60))
def test_batch_matches_on_random_series(name: str, seed: int, extra: int) -> None:
    params: dict[str, object] = {} if name.startswith("ears") else {"freq": 52}
    if name == "cdc":
        params["b"] = 3  # five years back (R's default) need more than the 260 weeks here
    _compare(name, params, _series(seed, rows=6, n=WEEKS + extra))


def test_non_integer_counts_take_the_general_path() -> None:
    y = _series(3) + 0.5
    _compare("bayes", {"freq": 52}, y)
    _compare("ears_c1", {}, y)
    _compare("cusum", {"freq": 52}, y)
    _compare("cusum", {"freq": 52, "range": np.array([y.shape[1] - 1])}, y)


def test_a_bad_row_is_left_unjudged_and_named_while_the_others_are_judged() -> None:
    y = _series(11)
    y[4, -3] = -1.0
    y[5, -1] = np.nan
    batch = detect_batch("rki", y, freq=52)
    assert not batch.judged[4].any()
    assert not batch.judged[5].any()
    assert batch.judged[np.r_[0:4, 6:12]].all()
    assert any("series 4" in note and f"index {WEEKS - 3}" in note for note in batch.notes)
    assert any("series 5" in note and "not a finite number" in note for note in batch.notes)
    assert not batch.alarm[4].any()
    clean = detect_batch("rki", np.delete(y, [4, 5], axis=0), freq=52)
    np.testing.assert_array_equal(batch.alarm[np.r_[0:4, 6:12]], clean.alarm)


def test_a_parameter_error_is_raised_for_the_whole_batch() -> None:
    with pytest.raises(DetectorParameterError, match="alpha"):
        detect_batch("ears_c1", _series(1), alpha=2.0)
    with pytest.raises(DetectorParameterError, match="range"):
        detect_batch("bayes", _series(1), freq=52, preset="bayes3", range=[5])


def test_row_rebuilds_the_per_series_result() -> None:
    y = _series(5)
    batch = detect_batch("cusum", y, freq=52)
    single = DETECTORS["cusum"](y[2], freq=52)
    rebuilt = batch.row(2, y[2])
    np.testing.assert_array_equal(rebuilt.alarm, single.alarm)
    np.testing.assert_array_equal(rebuilt.judged, single.judged)
    np.testing.assert_allclose(rebuilt.threshold, single.threshold, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    level=st.floats(min_value=0.2, max_value=30.0),
    c_arl=st.sampled_from([2.0, 5.0, 12.0]),
    mtilde=st.integers(min_value=1, max_value=3),
)
def test_the_pruned_poisson_chart_equals_the_plain_one(
    seed: int, level: float, c_arl: float, mtilde: int
) -> None:
    rng = np.random.default_rng(seed)
    n = 150
    mu = level * (1.0 + 0.3 * np.sin(np.arange(n) / 5.0))
    x = rng.poisson(mu * rng.choice([1.0, 1.6], size=n)).astype(np.int64)
    plain_n, plain, _ = _glr_kernels.glr_poisson(x, mu, -1, mtilde, c_arl, 1, False)
    pruned_n, pruned = _batch_kernels.glr_poisson_pruned(x, mu, mtilde, c_arl)
    assert pruned_n == plain_n
    np.testing.assert_array_equal(pruned, plain)


def _m5() -> np.ndarray:
    with M5.open(newline="") as handle:
        return np.array([float(row["observed__observed1"]) for row in csv.DictReader(handle)])


# R surveillance 1.20.3, m5 <- read.csv("m5.csv"); D <- sts2disProg(sts(m5$observed__observed1,
# frequency = 52, start = c(2001, 1))); which(algo.glrnb(D, control = list(range = 61:209, c.ARL = 5,
# alpha = 0, ret = "value"))$alarm == 1) + 60, after the warnings "glm.fit: algorithm did not
# converge" and "glm.fit: fitted rates numerically 0 occurred" (the same for range = 60:209).
R_M5_ALARM_WEEKS = [97, *range(101, 115), 119, 123]


@pytest.mark.parametrize("first_week", [60, 61])
def test_glrnb_on_m5_from_week_60_warns_and_alarms_as_r(first_week: int) -> None:
    y = _m5()
    judged = range(first_week - 1, y.shape[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = glrnb(y, freq=52, alpha=0.0, range=judged)
        batch = detect_batch("glrnb", np.vstack([y, y]), freq=52, alpha=0.0, range=judged)
    messages = " ".join(str(w.message) for w in caught)
    assert "did not converge" in messages
    assert "fitted rates numerically 0" in messages
    assert (np.flatnonzero(result.alarm) + 1).tolist() == R_M5_ALARM_WEEKS
    assert batch.judged.all()
    assert (batch.index[batch.alarm[1]] + 1).tolist() == R_M5_ALARM_WEEKS
