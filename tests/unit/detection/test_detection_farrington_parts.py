"""The parts of the Farrington detectors: bounds, weights, reference weeks, seasonal blocks, parameters.

Hand-checkable values are those of R surveillance's ``tests/testthat/test-farringtonFlexible.R``
(listed in reference/surveillance/ALGORITHMS.md).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.farrington import (
    farrington,
    farrington_flexible,
    farrington_flexible_many,
)
from fangkong.analytics.detection.farrington_kernel import anscombe_weights
from fangkong.analytics.detection.farrington_reference import (
    as_day_numbers,
    flexible_blocks,
    flexible_reference_points,
    nearest_same_weekday,
    years_back,
)
from fangkong.analytics.detection.farrington_threshold import delta_bounds, negbin_bounds


def _day(iso: str) -> int:
    return int(as_day_numbers([iso])[0])


@pytest.mark.parametrize(
    ("powertrans", "expected"),
    [
        ("none", (1.3073128, 8.6926872, 0.0907246, 0.8124165)),
        ("1/2", (1.9891097, 9.3744842, 0.1189986, 0.6857951)),
        ("2/3", (1.8084477, 9.1154825, 0.1094727, 0.7289546)),
    ],
)
def test_delta_bounds_match_r_hand_values(powertrans: str, expected: tuple[float, ...]) -> None:
    b = delta_bounds(5.0, 0.2, 1.0, 0.05, 8.0, powertrans)
    got = (float(b.lower), float(b.upper), float(b.prob), float(b.score))
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("method", "phi", "expected"),
    [
        ("muan", 1.5, (8.0, 24.0, 0.8597797, 0.4193982)),
        ("muan", 1.0, (9.0, 22.0, 0.9093099, 0.4605347)),
        ("nbPlugin", 1.5, (1.0, 10.0, 0.03763657, 1.11918153)),
        ("nbPlugin", 1.0, (2.0, 9.0, 0.01369527, 1.27061541)),
    ],
)
def test_negative_binomial_bounds_match_r_hand_values(
    method: str, phi: float, expected: tuple[float, ...]
) -> None:
    b = negbin_bounds(math.log(5.0), math.log(2.0), phi, 0.05, 11.0, method)
    got = (float(b.lower), float(b.upper), float(b.prob), float(b.score))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_two_sided_delta_bound_is_wider() -> None:
    one = delta_bounds(5.0, 0.2, 1.0, 0.05, 8.0)
    two = delta_bounds(5.0, 0.2, 1.0, 0.05, 8.0, two_sided=True)
    assert two.upper > one.upper


def test_delta_bound_rejects_unknown_transform() -> None:
    with pytest.raises(ValueError, match="powertrans"):
        delta_bounds(5.0, 0.2, 1.0, 0.05, 8.0, "2/88")


def test_weights_are_one_when_no_residual_is_large() -> None:
    s = np.zeros(10)
    anscombe_weights(s, 10, 0.0)
    np.testing.assert_allclose(s, np.ones(10))


def test_weights_down_weight_large_residuals_and_average_one() -> None:
    s = np.array([0.0] * 5 + [2.0] * 5)
    anscombe_weights(s, 10, 0.0)
    np.testing.assert_allclose(s, [1.6] * 5 + [0.4] * 5)
    assert s.mean() == pytest.approx(1.0)


def test_reference_weeks_keep_the_weekday() -> None:
    days = np.arange(_day("1990-06-07"), _day("2015-01-01"), 7)
    k = int(np.flatnonzero(days == _day("2013-06-06"))[0])
    points = flexible_reference_points(k, 3, 52, days)
    got = {dt.date(1970, 1, 1) + dt.timedelta(days=int(days[p])) for p in points}
    assert got == {dt.date(2013, 6, 6), dt.date(2012, 6, 7), dt.date(2011, 6, 9), dt.date(2010, 6, 3)}


def test_reference_points_without_dates_step_back_whole_years() -> None:
    np.testing.assert_array_equal(flexible_reference_points(47, 3, 12, None), [47, 35, 23, 11])


def test_leap_day_goes_to_first_of_march_like_r() -> None:
    assert years_back(_day("2012-02-29"), 1) == _day("2011-03-01")
    assert years_back(_day("2012-02-29"), 4) == _day("2008-02-29")


def test_nearest_weekday_moves_at_most_three_days() -> None:
    target = _day("2013-06-06")
    for day in range(target - 400, target - 300):
        moved = nearest_same_weekday(day, target)
        assert (moved - target) % 7 == 0
        assert abs(moved - day) <= 3


def test_too_many_years_back_is_a_parameter_error() -> None:
    with pytest.raises(DetectorParameterError, match="reference time points"):
        flexible_reference_points(47, 8, 12, None)


def _testthat_blocks(no_periods: int, past_weeks: int) -> tuple[np.ndarray, np.ndarray, int]:
    days = _day("1990-06-07") + 7 * np.arange(1301)
    k = int(np.flatnonzero(days == _day("2013-05-30"))[0])
    points = flexible_reference_points(k, 3, 52, days)
    rows, level = flexible_blocks(k, days.shape[0], 3, 3, no_periods, past_weeks, points)
    return rows, level, k


def test_windows_hold_b_times_2w_plus_1_weeks() -> None:
    _, level, _ = _testthat_blocks(1, 3)
    assert level.shape[0] == 3 * 7
    _, level, _ = _testthat_blocks(8, 3)
    assert np.count_nonzero(level == 7) == 3 * 7


def test_ten_periods_make_ten_levels_on_consecutive_weeks() -> None:
    rows, level, k = _testthat_blocks(10, 3)
    assert sorted(set(level.tolist())) == list(range(10))
    assert np.all(np.diff(rows) == 1)
    assert rows[-1] == k - 4
    # R's testthat: 157 rows, 156 once one of them is missing
    assert rows.shape[0] == 157


def test_blocks_have_nearly_equal_length_each_year() -> None:
    _, level, _ = _testthat_blocks(8, 3)
    counts = np.bincount(level[level != 7])
    assert counts.max() - counts.min() <= 3


def test_too_many_periods_is_a_parameter_error() -> None:
    with pytest.raises(DetectorParameterError, match="noPeriods"):
        _testthat_blocks(60, 3)


def _seasonal_series(seed: int, n: int = 312) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    mu = 6.0 * np.exp(0.6 * np.cos(2 * np.pi * t / 52))
    return rng.poisson(mu).astype(float)


def test_alarm_only_when_count_exceeds_bound_and_is_not_zero() -> None:
    y = _seasonal_series(1)
    y[300:303] += 25
    res = farrington_flexible(y, thresholdMethod="nbPlugin", alpha=0.1)
    assert res.alarm[300:303].all()
    assert not res.alarm[y == 0].any()
    above = np.nan_to_num(res.observed > res.threshold, nan=False)
    np.testing.assert_array_equal(res.alarm, above & res.judged & (res.observed > 0))


def test_population_scale_does_not_change_bounds() -> None:
    y = _seasonal_series(2)
    pop = np.linspace(1e5, 1.2e5, y.shape[0])
    a = farrington_flexible(y, populationOffset=True, population=pop)
    b = farrington_flexible(y, populationOffset=True, population=7.0 * pop)
    np.testing.assert_allclose(a.threshold, b.threshold, rtol=1e-9, equal_nan=True)


def test_batch_rows_equal_single_series_runs() -> None:
    counts = np.stack([_seasonal_series(s) for s in range(4)])
    counts[2, 10:20] = np.nan
    batch = farrington_flexible_many(counts, noPeriods=10, pastWeeksNotIncluded=26, b=4)
    assert len(batch) == 4
    for i, res in enumerate(batch.results()):
        single = farrington_flexible(counts[i], noPeriods=10, pastWeeksNotIncluded=26, b=4)
        np.testing.assert_array_equal(res.threshold, single.threshold)
        np.testing.assert_array_equal(res.alarm, single.alarm)
        np.testing.assert_array_equal(res.judged, single.judged)


def test_default_ranges_follow_r() -> None:
    y = _seasonal_series(3)
    flexible = farrington_flexible(y)
    classic = farrington(y)
    assert np.flatnonzero(flexible.judged)[0] == 52 * 5 + 3  # R: (freq*b + w + 1):n, 1-based
    assert np.flatnonzero(classic.judged)[0] == 52 * 5 - 3 - 1  # R: (freq*b - w):n, 1-based
    assert flexible.judged[-1]
    assert classic.judged[-1]


def test_classic_limit54_gives_zero_bound_and_no_alarm() -> None:
    y = np.zeros(300)
    y[::9] = 1.0
    y[290] = 4.0
    res = farrington(y, b=3, range=range(280, 300))
    recent = np.array([y[k - 3 : k + 1].sum() for k in range(280, 300)])
    quiet = np.arange(280, 300)[recent < 5]
    assert quiet.size > 0
    assert np.all(res.threshold[quiet] == 0.0)
    assert np.all(res.score[quiet] == 0.0)
    assert not res.alarm[quiet].any()


def test_result_records_parameters_in_r_names() -> None:
    res = farrington_flexible(_seasonal_series(4), b=4, noPeriods=3)
    assert res.method == "farringtonFlexible"
    assert res.params["b"] == 4
    assert res.params["noPeriods"] == 3
    assert res.params["pastWeeksNotIncluded"] == 3
    assert res.params["limit54"] == [5, 4]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"bogus": 1}, "bogus"),
        ({"b": 0}, "b"),
        ({"b": 2.5}, "b"),
        ({"alpha": 1.5}, "alpha"),
        ({"limit54": (5, 0)}, "limit54"),
        ({"limit54": "54"}, "limit54"),
        ({"limit54": "5,x"}, "limit54"),
        ({"powertrans": "3/4"}, "powertrans"),
        ({"thresholdMethod": "exact"}, "thresholdMethod"),
        ({"range": [0, 400]}, "range"),
        ({"range": [1.5]}, "range"),
        ({"reweight": "yes"}, "reweight"),
        ({"populationOffset": True}, "population"),
        ({"dates": ["2020-01-01"]}, "dates"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, object], name: str) -> None:
    with pytest.raises(DetectorParameterError, match=name):
        farrington_flexible(_seasonal_series(5), **params)


def test_classic_rejects_flexible_only_parameters() -> None:
    with pytest.raises(DetectorParameterError, match="noPeriods"):
        farrington(_seasonal_series(6), noPeriods=10)


def test_negative_counts_are_rejected() -> None:
    y = _seasonal_series(7)
    y[5] = -1
    with pytest.raises(DetectorParameterError, match="non-negative"):
        farrington_flexible(y)


def test_points_without_enough_history_are_not_judged() -> None:
    y = _seasonal_series(8)
    res = farrington_flexible(y, range=range(200, 312))
    first = 52 * 5 + 3 - 1  # R accepts an oldest window that starts one week before the series
    assert not res.judged[200:first].any()
    assert np.isnan(res.threshold[200:first]).all()
    assert res.judged[first:].all()
    assert not farrington_flexible(y, b=6).judged.any()


def test_limit54_may_come_as_text_from_a_command_line() -> None:
    y = _seasonal_series(9)
    a = farrington_flexible(y, limit54="3,2")
    b = farrington_flexible(y, limit54=(3, 2))
    np.testing.assert_array_equal(a.threshold, b.threshold)
