"""Properties every temporal detector must have, whatever its formula."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.analytics.detection.base import DetectionResult
from fangkong.analytics.detection.bayes import bayes
from fangkong.analytics.detection.cdc import cdc
from fangkong.analytics.detection.cusum import cusum
from fangkong.analytics.detection.ears import ears_c1, ears_c2, ears_c3
from fangkong.analytics.detection.ewma import ewma
from fangkong.analytics.detection.fixed import fixed
from fangkong.analytics.detection.glrnb import glrnb
from fangkong.analytics.detection.mpm import mpm
from fangkong.analytics.detection.rki import rki

WEEKS = 4 * 52  # four years of weekly counts: enough history for every method's defaults

Run = Callable[..., DetectionResult]

# Every detector with the settings a weekly series needs; extra keywords (``range``) pass through.
# fixed is left out of the constant-series property: a constant count at its threshold alarms by design.
WEEKLY: dict[str, Run] = {
    "mpm": lambda y, **k: mpm(y, freq=52, **k),
    "ears_c1": lambda y, **k: ears_c1(y, **k),
    "ears_c2": lambda y, **k: ears_c2(y, **k),
    "ears_c3": lambda y, **k: ears_c3(y, **k),
    "ears_c3_textbook": lambda y, **k: ears_c3(y, rule="textbook", **k),
    "cusum": lambda y, **k: cusum(y, **k),
    "cusum_glm": lambda y, **k: cusum(y, m="glm", **k),
    "cusum_rossi": lambda y, **k: cusum(y, trans="rossi", **k),
    "bayes1": lambda y, **k: bayes(y, preset="bayes1", **k),
    "bayes2": lambda y, **k: bayes(y, preset="bayes2", **k),
    "bayes3": lambda y, **k: bayes(y, preset="bayes3", **k),
    "rki1": lambda y, **k: rki(y, preset="rki1", **k),
    "rki2": lambda y, **k: rki(y, preset="rki2", **k),
    "rki3": lambda y, **k: rki(y, preset="rki3", **k),
    "cdc": lambda y, **k: cdc(y, b=3, **k),
    "glrnb_poisson": lambda y, **k: glrnb(y, **k),
    "glrnb_negbin": lambda y, **k: glrnb(y, alpha=0.1, M=20, **k),
    "ewma": lambda y, **k: ewma(y, **k),
}


@pytest.mark.parametrize("name", sorted(WEEKLY))
@settings(max_examples=12, deadline=None)
@given(level=st.integers(min_value=0, max_value=60))
def test_a_constant_series_never_alarms(name: str, level: int) -> None:
    result = WEEKLY[name](np.full(WEEKS, float(level)))
    assert not result.alarm.any()


@pytest.mark.parametrize("name", sorted(WEEKLY))
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), extra=st.integers(min_value=0, max_value=30))
def test_results_are_aligned_with_the_input(name: str, seed: int, extra: int) -> None:
    y = np.random.default_rng(seed).poisson(6.0, WEEKS + extra).astype(float)
    result = WEEKLY[name](y)
    n = y.shape[0]
    for array in (result.expected, result.threshold, result.score, result.alarm, result.judged):
        assert array.shape == (n,)
    np.testing.assert_array_equal(result.observed, y)
    assert result.judged.any()
    assert not (result.alarm & ~result.judged).any()
    assert np.isnan(result.expected[~result.judged]).all()
    assert np.isnan(result.score[~result.judged]).all()
    assert np.isfinite(result.expected[result.judged]).all()
    # Judged points form one block that runs to the end of the series (the default range).
    judged = np.flatnonzero(result.judged)
    assert judged[-1] == n - 1
    assert np.all(np.diff(judged) == 1)


def _background(seed: int = 20230115) -> np.ndarray:
    return np.random.default_rng(seed).poisson(5.0, WEEKS).astype(float)


SPIKE_AT = WEEKS - 8
SPIKE = 60.0


@pytest.mark.parametrize("name", sorted(set(WEEKLY) - {"ears_c3"}))
def test_a_spike_far_above_baseline_alarms(name: str) -> None:
    y = _background()
    y[SPIKE_AT] = SPIKE
    result = WEEKLY[name](y)
    assert result.alarm[SPIKE_AT]


def test_r_rule_c3_alarms_two_points_after_a_spike() -> None:
    y = _background()
    y[SPIKE_AT] = SPIKE
    assert y[SPIKE_AT + 2] > 0
    result = ears_c3(y)
    assert not result.alarm[SPIKE_AT]
    assert result.alarm[SPIKE_AT + 2]


def test_fixed_threshold_alarms_at_and_above_the_threshold() -> None:
    y = np.array([0.0, 1.0, 2.0, 0.0, 5.0])
    np.testing.assert_array_equal(fixed(y).alarm, [False, True, True, False, True])
    np.testing.assert_array_equal(fixed(y, threshold=5).alarm, [False, False, False, False, True])
    assert fixed(y).judged.all()


@pytest.mark.parametrize("name", sorted(WEEKLY))
def test_an_explicit_range_is_honoured(name: str) -> None:
    chosen = range(WEEKS - 30, WEEKS - 10)
    result = WEEKLY[name](_background(), range=chosen)
    np.testing.assert_array_equal(np.flatnonzero(result.judged), np.array(chosen))
