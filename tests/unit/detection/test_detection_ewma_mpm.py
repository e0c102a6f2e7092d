"""ESSENCE EWMA against a plain loop transcription of Rnssp's ``ewma_loop``; CIDARS MPM by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.ewma import ewma
from fangkong.analytics.detection.mpm import mpm


def _rnssp_ewma_loop(
    y: np.ndarray, g: int = 2, w1: float = 0.4, w2: float = 0.9
) -> tuple[list[float], list[float], list[float]]:
    """Rnssp R/alert_ewma.R ``ewma_loop`` line by line (1-based indices shifted to 0-based)."""
    n = len(y)
    min_baseline, max_baseline = 11, 28
    expected, stat_out, p_out = [math.nan] * n, [math.nan] * n, [math.nan] * n
    z1, z2 = [math.nan] * n, [math.nan] * n
    z1[0] = z2[0] = y[0]
    for i0 in range(1, min_baseline + g):
        z1[i0] = w1 * y[i0] + (1 - w1) * z1[i0 - 1]
        z2[i0] = w2 * y[i0] + (1 - w2) * z2[i0 - 1]
    baseline = list(range(0, min_baseline - 1))
    for i in range(min_baseline + g, n):
        if baseline[-1] + 1 < max_baseline:
            baseline = [-1, *baseline]
        baseline = [b + 1 for b in baseline]
        L = len(baseline)
        values = [y[b] for b in baseline]
        mean = sum(values) / L
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (L - 1))
        corr1 = math.sqrt(w1 / (2 - w1) + 1 / L - 2 * (1 - w1) ** (g + 1) * ((1 - (1 - w1) ** L) / L))
        corr2 = math.sqrt(w2 / (2 - w2) + 1 / L - 2 * (1 - w2) ** (g + 1) * ((1 - (1 - w2) ** L) / L))
        ucl_alert = round(stats.t.ppf(1 - 0.01, L - 1), 5)
        ucl_warning = round(stats.t.ppf(1 - 0.05, L - 1), 5)
        min1 = (w1 / ucl_warning) * (1 + 0.5 * (1 - w1) ** 2)
        min2 = (w2 / ucl_warning) * (1 + 0.5 * (1 - w2) ** 2)
        c1 = (0.1289 - (0.2414 - 0.1826 * (1 - w1) ** 4) * math.log(10 * 0.05)) * (w1 / ucl_warning)
        c2 = (0.1289 - (0.2414 - 0.1826 * (1 - w2) ** 4) * math.log(10 * 0.05)) * (w2 / ucl_warning)
        s1, s2 = max(min1, sd * corr1 + c1), max(min2, sd * corr2 + c2)
        z1[i] = w1 * y[i] + (1 - w1) * z1[i - 1]
        z2[i] = w2 * y[i] + (1 - w2) * z2[i - 1]
        t1, t2 = (z1[i] - mean) / s1, (z2[i] - mean) / s2
        if abs(t1) > ucl_alert:
            z1[i] = mean + math.copysign(1, t1) * ucl_alert * s1
        if abs(t2) > ucl_alert:
            z2[i] = mean + math.copysign(1, t2) * ucl_alert * s2
        p1, p2 = 1 - stats.t.cdf(t1, L - 1), 1 - stats.t.cdf(t2, L - 1)
        expected[i] = mean
        stat_out[i], p_out[i] = (t1, p1) if p1 < p2 else (t2, p2)
    return expected, stat_out, p_out


def test_ewma_matches_the_rnssp_loop() -> None:
    rng = np.random.default_rng(7)
    y = rng.poisson(6.0, 200).astype(float)
    y[120:124] += 25.0  # an outbreak, so the clipping of the smoothed values is exercised
    expected, stat, pvalue = _rnssp_ewma_loop(y)
    result = ewma(y)
    judged = np.flatnonzero(result.judged)
    assert judged[0] == 13
    assert judged[-1] == 199
    np.testing.assert_allclose(result.expected[judged], np.array(expected)[judged], rtol=1e-12)
    np.testing.assert_allclose(result.score[judged], np.array(stat)[judged], rtol=1e-9, atol=1e-12)
    assert result.pvalue is not None
    np.testing.assert_allclose(result.pvalue[judged], np.array(pvalue)[judged], rtol=1e-7, atol=1e-12)
    assert result.alarm[120]
    np.testing.assert_array_equal(result.alarm[judged], np.array(pvalue)[judged] < 0.01)


def test_ewma_threshold_is_the_alarm_boundary() -> None:
    rng = np.random.default_rng(11)
    y = rng.poisson(4.0, 120).astype(float)
    result = ewma(y)
    day = 100
    bound = result.threshold[day]
    assert bound > 0
    # Alarm iff the count exceeds the bound: the next whole count above it alarms, the one below not.
    assert ewma(np.concatenate([y[:day], [math.floor(bound) + 1.0]]), range=[day]).alarm[day]
    assert not ewma(np.concatenate([y[:day], [float(math.floor(bound))]]), range=[day]).alarm[day]


def test_mpm_by_hand_weekly() -> None:
    # Weekly series, 3 years back, 2 periods of 1 week each side -> 15 baseline weeks per judged week.
    years = 4
    y = np.zeros(52 * years)
    base = np.arange(52 * years) % 52
    y[:] = base % 5  # a repeating pattern with known values
    t = 52 * 3 + 10
    y[t] = 9.0
    result = mpm(y, freq=52, range=[t])
    baseline = [y[t - i * 52 + j] for i in (1, 2, 3) for j in (-2, -1, 0, 1, 2)]
    assert result.threshold[t] == pytest.approx(np.percentile(baseline, 50))
    assert result.score[t] == 9.0
    assert result.alarm[t]
    assert result.params["window"] == 1


def test_mpm_daily_sums_seven_day_periods() -> None:
    rng = np.random.default_rng(3)
    y = rng.poisson(2.0, 365 * 3 + 60).astype(float)
    t = 365 * 3 + 40
    result = mpm(y, b=3, w=2, percentile=80, range=[t])
    periods = [
        y[e - 6 : e + 1].sum() for i in (1, 2, 3) for e in (t - i * 365 + 7 * j for j in (-2, -1, 0, 1, 2))
    ]
    assert result.threshold[t] == pytest.approx(np.percentile(periods, 80))
    assert result.score[t] == y[t - 6 : t + 1].sum()


def test_mpm_needs_enough_history() -> None:
    with pytest.raises(DetectorParameterError, match="range"):
        mpm(np.ones(400))
