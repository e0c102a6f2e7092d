"""GLR-NB chart against R surveillance 1.20.3 ``algo.glrnb`` (the package's testthat example)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.glrnb import glrnb

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"
TOLERANCE = 1e-6  # absolute, ALGORITHMS.md
ALPHA = 0.2  # NB dispersion of the example (make_golden.R)


def _golden() -> list[dict[str, str]]:
    with (FIXTURES / "glrnb_testthat_example.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([float(r[name]) for r in rows])


def test_glr_statistic_matches_r() -> None:
    rows = _golden()
    result = glrnb(_column(rows, "x"), mu0=_column(rows, "mu0"), alpha=ALPHA, c_ARL=5, ret="value")
    np.testing.assert_allclose(result.score, _column(rows, "glr_value"), rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(result.alarm, _column(rows, "alarm_value") == 1)
    assert result.alarm.sum() == 1
    assert np.isnan(result.threshold).all()  # ret="value" defines no count threshold


def test_alarm_raising_counts_match_r() -> None:
    rows = _golden()
    result = glrnb(_column(rows, "x"), mu0=_column(rows, "mu0"), alpha=ALPHA, c_ARL=5, ret="cases")
    np.testing.assert_allclose(result.threshold, _column(rows, "cases_upperbound"), rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(result.alarm, _column(rows, "alarm_cases") == 1)


def test_zero_counts_can_get_a_real_threshold_on_request() -> None:
    rows = _golden()
    x, mu0 = _column(rows, "x"), _column(rows, "mu0")
    r_like = glrnb(x, mu0=mu0, alpha=ALPHA, ret="cases")
    searched = glrnb(x, mu0=mu0, alpha=ALPHA, ret="cases", cases_from_zero=True)
    zero = x == 0
    assert (r_like.threshold[zero] == 1e99).all()  # R 1.20.3's search never starts at a zero count
    assert (searched.threshold[zero] < 100).all()
    np.testing.assert_array_equal(searched.threshold[~zero], r_like.threshold[~zero])


def test_chart_restarts_after_an_alarm() -> None:
    rows = _golden()
    result = glrnb(_column(rows, "x"), mu0=_column(rows, "mu0"), alpha=ALPHA)
    alarm_at = int(np.flatnonzero(result.alarm)[0])
    # After the restart the statistic only sees the points after the alarm, so it drops.
    assert result.score[alarm_at + 1] < result.score[alarm_at] / 2


def test_poisson_chart_with_fitted_mean_alarms_on_a_level_shift() -> None:
    rng = np.random.default_rng(20240501)
    t = np.arange(1, 261)
    mean = np.exp(1.5 + 0.6 * np.cos(2 * np.pi * t / 52) + 0.6 * np.sin(2 * np.pi * t / 52))
    mean[230:] *= 3.0
    counts = rng.poisson(mean).astype(float)
    result = glrnb(counts, range=range(156, 260))
    assert result.params["mu0"] == "fitted"
    np.testing.assert_allclose(result.expected[156:230], mean[156:230], rtol=0.35)
    assert result.alarm[230:240].any()
    assert result.alarm[156:230].sum() <= 2


def test_fixed_change_lr_cusum_runs_and_restarts() -> None:
    counts = np.array([5.0] * 20 + [15.0] * 10)
    result = glrnb(counts, mu0=5.0, theta=np.log(2.0), c_ARL=5)
    assert not result.alarm[:20].any()
    assert result.alarm[20:].sum() >= 2


def test_mu0_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(DetectorParameterError, match="mu0"):
        glrnb(np.ones(10), mu0=np.ones(7))
