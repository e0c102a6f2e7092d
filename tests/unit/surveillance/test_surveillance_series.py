"""Series for the detectors: aggregation up the jurisdiction tree and one detector over many areas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from fangkong.analytics.detection.ears import ears_c1
from fangkong.surveillance.series import aggregate, area_index, detect_many, period_dates

COUNTY = "/330000/330100/330106/"
TOWNSHIP = COUNTY + "330106001/"
COMMUNITY_A = TOWNSHIP + "330106001001/"
COMMUNITY_B = TOWNSHIP + "330106001002/"
OTHER = "/330000/330100/330102/"


def test_periods_step_by_day_or_week() -> None:
    assert period_dates(dt.date(2024, 3, 4), dt.date(2024, 3, 18), weekly=True) == [
        dt.date(2024, 3, 4),
        dt.date(2024, 3, 11),
        dt.date(2024, 3, 18),
    ]
    assert len(period_dates(dt.date(2024, 2, 28), dt.date(2024, 3, 1), weekly=False)) == 3


def test_each_path_finds_the_area_that_contains_it() -> None:
    index = area_index([COMMUNITY_A, COMMUNITY_B, OTHER + "330102001/", "/440000/"], [COUNTY, OTHER])
    assert index.tolist() == [0, 0, 1, -1]


def test_counts_add_up_and_rates_average_up_the_tree() -> None:
    days = period_dates(dt.date(2024, 3, 1), dt.date(2024, 3, 3), weekly=False)
    paths = [COMMUNITY_A, COMMUNITY_B, COMMUNITY_A, OTHER]
    periods = [days[0], days[0], days[2], days[1]]
    values = [3.0, 5.0, 2.0, 7.0]
    summed = aggregate(paths, periods, values, [COUNTY, OTHER], days, mean=False)
    assert summed.tolist() == [[8.0, 0.0, 2.0], [0.0, 7.0, 0.0]]
    averaged = aggregate(paths, periods, values, [COUNTY, OTHER], days, mean=True)
    assert averaged.tolist() == [[4.0, 0.0, 2.0], [0.0, 7.0, 0.0]]


def test_detect_many_gives_what_the_detector_gives_each_series() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.poisson(5.0, size=(4, 40)).astype(float)
    matrix[2, -1] = 40.0
    days = period_dates(dt.date(2024, 1, 1), dt.date(2024, 2, 9), weekly=False)
    judged = np.arange(30, 40)
    outcome = detect_many("ears_c1", {"alpha": 0.01}, matrix, judged, days, weekly=False)
    for row in range(4):
        direct = ears_c1(matrix[row], alpha=0.01, range=judged)
        np.testing.assert_allclose(outcome.threshold[row], direct.threshold[judged])
        assert outcome.alarm[row].tolist() == direct.alarm[judged].tolist()
    assert outcome.alarm[2, -1]
    assert outcome.judged.all()


def test_a_series_too_short_for_the_method_is_left_unjudged_with_a_note() -> None:
    matrix = np.ones((2, 30))
    days = period_dates(dt.date(2024, 1, 1), dt.date(2024, 1, 30), weekly=False)
    outcome = detect_many("mpm", {}, matrix, np.arange(29, 30), days, weekly=False)
    assert not outcome.judged.any()
    assert len(outcome.notes) == 1
    assert "history" in outcome.notes[0]


def test_bad_parameters_are_the_configurations_fault() -> None:
    from fangkong.analytics.detection.base import DetectorParameterError

    days = period_dates(dt.date(2024, 1, 1), dt.date(2024, 1, 30), weekly=False)
    with pytest.raises(DetectorParameterError):
        detect_many("ears_c1", {"nonsense": 1}, np.ones((1, 30)), np.arange(20, 30), days, weekly=False)


def test_weekly_farrington_flexible_runs_batched_with_calendar_dates() -> None:
    from fangkong.analytics.detection.farrington import farrington_flexible

    rng = np.random.default_rng(11)
    weeks = period_dates(dt.date(2018, 1, 1), dt.date(2023, 12, 25), weekly=True)
    matrix = rng.poisson(8.0, size=(3, len(weeks))).astype(float)
    matrix[1, -1] = 60.0
    judged = np.arange(len(weeks) - 4, len(weeks))
    params = {"b": 4, "w": 3}
    outcome = detect_many("farrington_flexible", params, matrix, judged, weeks, weekly=True)
    dates = [d.isoformat() for d in weeks]
    for row in range(3):
        direct = farrington_flexible(matrix[row], b=4, w=3, freq=52, dates=dates, range=judged)
        np.testing.assert_allclose(outcome.threshold[row], direct.threshold[judged], rtol=1e-10)
    assert outcome.alarm[1, -1]
    assert not outcome.alarm[0].any()
