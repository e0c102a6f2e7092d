"""EpiEstim's criterion for a usable Rt: a posterior coefficient of variation of at most 0.3."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.analytics.rt import MAX_POSTERIOR_CV, RtInputError, estimate_r, min_cases_for_cv


def test_a_window_needs_eleven_local_cases_under_the_default_prior() -> None:
    # EpiEstim: ceiling(1 / cv_posterior^2 - mean_prior^2 / std_prior^2) = ceiling(11.1 - 1) = 11.
    assert min_cases_for_cv() == 11
    assert min_cases_for_cv(0.5) == 3  # 1/0.25 - 1 = 3 exactly: no rounding up past it
    with pytest.raises(RtInputError):
        min_cases_for_cv(0.0)


def test_windows_without_cases_return_the_prior_and_are_not_usable() -> None:
    days = 20
    silent = np.zeros(days)
    busy = np.full(days, 3.0)  # 21 cases in every 7-day window
    # Ten cases in the last window only, then one more.
    edge = np.zeros((2, days))
    edge[0, -1] = 10
    edge[1, -1] = 11
    estimate = estimate_r(np.vstack([silent, busy, edge]), mean_si=4.7, std_si=2.9, window=7)
    # The bug this guards against: the prior's mean 5 (and its band 0.13-18.44) shown as an estimate.
    assert estimate.mean[0] == pytest.approx(np.full(estimate.mean.shape[1], 5.0))
    assert estimate.cv[0] == pytest.approx(np.ones(estimate.mean.shape[1]))
    usable = estimate.usable()
    assert not usable[0].any()
    assert usable[1].all()
    assert (estimate.cv[1] <= MAX_POSTERIOR_CV).all()
    assert not usable[2, -1] and usable[3, -1]
    assert estimate.cv[2, -1] > MAX_POSTERIOR_CV >= estimate.cv[3, -1]
    # The CV is the posterior's own sd / mean.
    assert estimate.cv == pytest.approx(estimate.std / estimate.mean)
