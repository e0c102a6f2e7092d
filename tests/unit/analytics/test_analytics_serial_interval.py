"""The serial interval kernel: summary, fits by scipy, the AIC choice, the bootstrap and the
distribution handed to Rt."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fangkong.analytics.rt import check_si_distr
from fangkong.analytics.serial_interval import (
    SerialIntervalError,
    _fit_params,
    _frozen,
    _refit_many,
    fit_serial_interval,
)


def test_summary_counts_pairs_mean_sd_and_the_negative_share() -> None:
    intervals = [3, 5, 4, 6, 2, 7, 5, 4, -1, 0, 8, 5, 3]
    result = fit_serial_interval(intervals, np.random.default_rng(1), bootstrap=0)
    assert result.pairs == 13
    assert result.mean == pytest.approx(np.mean(intervals))
    assert result.sd == pytest.approx(np.std(intervals, ddof=1))
    assert result.negative_share == pytest.approx(1 / 13)


def test_a_negative_or_zero_interval_leaves_only_the_normal_comparable() -> None:
    intervals = np.array([3, 5, 4, 6, 2, 7, 5, 4, -1, 0, 8, 5, 3], dtype=float)
    result = fit_serial_interval(intervals, np.random.default_rng(1), bootstrap=0)
    assert result.chosen == "normal"
    fits = {f.family: f for f in result.fits}
    loc, scale = stats.norm.fit(intervals)
    assert fits["normal"].params == pytest.approx({"loc": loc, "scale": scale})
    assert fits["normal"].aic == pytest.approx(4 - 2 * stats.norm(loc, scale).logpdf(intervals).sum())
    # Gamma and lognormal are fitted to the positive part and cannot describe the pairs at 0 or less.
    shape, _, gscale = stats.gamma.fit(intervals[intervals > 0], floc=0)
    assert fits["gamma"].params == pytest.approx({"shape": shape, "scale": gscale})
    assert fits["gamma"].fitted_pairs == 11
    assert fits["gamma"].aic == float("inf")


def test_on_positive_pairs_the_lowest_aic_wins() -> None:
    rng = np.random.default_rng(7)
    intervals = np.round(rng.gamma(2.0, 2.5, size=400)) + 1
    result = fit_serial_interval(intervals, np.random.default_rng(1), bootstrap=0)
    aics = {f.family: f.aic for f in result.fits}
    assert result.chosen == min(aics, key=aics.__getitem__)
    assert all(np.isfinite(list(aics.values())))


def test_the_bootstrap_is_reproducible_with_the_same_generator_and_covers_the_fit() -> None:
    intervals = [3, 5, 4, 6, 2, 7, 5, 4, -1, 0, 8, 5, 3]
    a = fit_serial_interval(intervals, np.random.default_rng(3), bootstrap=200)
    b = fit_serial_interval(intervals, np.random.default_rng(3), bootstrap=200)
    assert a.mean_interval == b.mean_interval
    assert a.sd_interval == b.sd_interval
    fit = a.chosen_fit
    assert fit is not None and a.mean_interval is not None and a.sd_interval is not None
    assert a.mean_interval[0] < fit.mean < a.mean_interval[1]
    assert a.sd_interval[0] < fit.sd < a.sd_interval[1]


def test_the_distribution_for_rt_is_the_fit_rounded_to_days_from_day_one() -> None:
    intervals = [3, 5, 4, 6, 2, 7, 5, 4, -1, 0, 8, 5, 3]
    result = fit_serial_interval(intervals, np.random.default_rng(1), bootstrap=0)
    w = np.asarray(result.si_distr)
    check_si_distr(w)
    assert w[0] == 0
    fit = result.chosen_fit
    assert fit is not None
    dist = stats.norm(fit.params["loc"], fit.params["scale"])
    assert result.dropped_share == pytest.approx(dist.cdf(0.5))
    assert w[4] == pytest.approx((dist.cdf(4.5) - dist.cdf(3.5)) / dist.sf(0.5), rel=1e-6)


def test_few_pairs_give_a_summary_without_a_fit() -> None:
    result = fit_serial_interval([4, 6], np.random.default_rng(1))
    assert (result.pairs, result.mean, result.chosen, result.si_distr) == (2, 5.0, None, ())
    empty = fit_serial_interval([], np.random.default_rng(1))
    assert (empty.pairs, empty.mean, empty.sd, empty.negative_share) == (0, None, None, None)
    with pytest.raises(SerialIntervalError):
        fit_serial_interval([1, float("nan")], np.random.default_rng(1))


def test_the_normal_bootstrap_is_scipys_fit_of_each_resample() -> None:
    intervals = np.array([3, 5, 4, 6, 2, 7, 5, 4, -1, 0, 8, 5, 3], dtype=float)
    result = fit_serial_interval(intervals, np.random.default_rng(11), bootstrap=300)
    draws = np.random.default_rng(11).integers(0, intervals.size, size=(300, intervals.size))
    fits = [stats.norm.fit(intervals[row]) for row in draws]
    means = np.array([m for m, _ in fits])
    sds = np.array([s for _, s in fits])
    assert result.mean_interval == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])), abs=1e-12)
    assert result.sd_interval == pytest.approx(tuple(np.percentile(sds, [2.5, 97.5])), abs=1e-12)


def test_a_gamma_bootstrap_refits_with_scipy() -> None:
    rng = np.random.default_rng(5)
    intervals = np.round(rng.gamma(3.0, 1.5, size=60)) + 1
    result = fit_serial_interval(intervals, np.random.default_rng(2), bootstrap=50)
    fit = result.chosen_fit
    assert fit is not None and result.mean_interval is not None
    draws = np.random.default_rng(2).integers(0, intervals.size, size=(50, intervals.size))
    refits = []
    for row in draws:
        params = _fit_params(fit.family, intervals[row])
        refits.append(float(_frozen(fit.family, params).mean()))
    assert result.mean_interval == pytest.approx(tuple(np.percentile(refits, [2.5, 97.5])), abs=1e-12)


@pytest.mark.parametrize("family", ["normal", "gamma", "lognormal"])
def test_refitting_many_resamples_at_once_is_scipys_fit_of_each(family: str) -> None:
    rng = np.random.default_rng(9)
    samples = np.round(rng.gamma(2.5, 2.0, size=(40, 25))) + 1
    means, sds = _refit_many(family, samples)
    for row, mean, sd in zip(samples, means, sds, strict=True):
        dist = _frozen(family, _fit_params(family, row))
        assert mean == pytest.approx(dist.mean(), rel=1e-7)
        assert sd == pytest.approx(dist.std(), rel=1e-6)
