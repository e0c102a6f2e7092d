"""Rt kernel against EpiEstim's own outputs, an independent loop implementation and properties."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from fangkong.analytics.rt import (
    DEFAULT_MEAN_PRIOR,
    EPIESTIM_COLUMNS,
    QUANTILE_LEVELS,
    RtEstimate,
    RtInputError,
    discretised_serial_interval,
    estimate_r,
    overall_infectivity,
    sliding_windows,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rt"
# EpiEstim's Examples 2 and 3 use a parametric serial interval of mean 2.6, sd 1.5 days (Flu2009).
FLU_SI_MEAN = 2.6
FLU_SI_SD = 1.5


def _read(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([float(row[name]) for row in rows])


def _example_estimate(example: int) -> RtEstimate:
    incidence = _read(f"Example{example}_incidence.csv")
    if example == 1:
        si = _column(_read("Example1_si_distr.csv"), "si_distr")
        return estimate_r(_column(incidence, "I"), si_distr=si)
    if example == 2:
        return estimate_r(
            _column(incidence, "I_local"),
            _column(incidence, "I_imported"),
            mean_si=FLU_SI_MEAN,
            std_si=FLU_SI_SD,
        )
    return estimate_r(_column(incidence, "I"), mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)


@pytest.mark.parametrize("example", [1, 2, 3])
def test_reproduces_epiestim_examples(example: int) -> None:
    reference = _read(f"Example{example}_R.csv")
    table = _example_estimate(example).epiestim_columns()
    for name in EPIESTIM_COLUMNS:
        np.testing.assert_allclose(table[name], _column(reference, name), rtol=0, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("example", [2, 3])
def test_parametric_serial_interval_is_epiestims(example: int) -> None:
    reference = _column(_read(f"Example{example}_si_distr.csv"), "si_distr")
    used = _example_estimate(example).si_distr
    assert used.shape == reference.shape
    np.testing.assert_allclose(used, reference, rtol=0, atol=1e-12)


def test_imported_cases_infect_but_are_not_counted_as_infected_locally() -> None:
    incidence = _read("Example2_incidence.csv")
    local, imported = _column(incidence, "I_local"), _column(incidence, "I_imported")
    split = estimate_r(local, imported, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    all_local = estimate_r(local + imported, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    # Same infectivity (imported cases infect), fewer infectees on the numerator.
    np.testing.assert_allclose(split.scale, all_local.scale)
    assert np.all(split.mean <= all_local.mean)
    assert np.any(split.mean < all_local.mean - 0.1)


def test_default_windows_are_epiestims() -> None:
    t_start, t_end = sliding_windows(32, 7)
    assert t_start[0] == 2
    assert t_start[-1] == 32 - 7 + 1
    assert np.all(t_end - t_start == 6)
    assert t_end[-1] == 32


def test_overall_infectivity_by_hand() -> None:
    # Λ_2 = I_1 w_1 = 0.5; Λ_3 = I_2 w_1 + I_1 w_2 = 1 + 0.5; Λ_4 = I_3 w_1 + I_2 w_2 = 0 + 1.
    infectivity = overall_infectivity([1, 2, 0, 3], [0, 0.5, 0.5])
    assert np.isnan(infectivity[0])
    np.testing.assert_allclose(infectivity[1:], [0.5, 1.5, 1.0])


def _loop_reference(
    local: np.ndarray, total: np.ndarray, w: np.ndarray, t_start: int, t_end: int
) -> tuple[float, list[float]]:
    """Cori et al. written out with loops, 1-based days, prior mean 5 and sd 5."""
    lam = {
        t: sum(total[t - s - 1] * w[s] for s in range(1, t) if s < w.size) for t in range(2, total.size + 1)
    }
    shape = 1.0 + sum(local[t - 1] for t in range(t_start, t_end + 1))
    scale = 1.0 / (1.0 / 5.0 + sum(lam[t] for t in range(t_start, t_end + 1)))
    return shape * scale, [float(stats.gamma.ppf(q, shape, scale=scale)) for q in QUANTILE_LEVELS]


def test_custom_windows_match_a_loop_implementation() -> None:
    incidence = _read("Example1_incidence.csv")
    total = _column(incidence, "I")
    local = total.copy()
    local[0] = 0
    w = _column(_read("Example1_si_distr.csv"), "si_distr")
    t_start = np.array([2, 9, 16, 23, 5])
    t_end = np.array([8, 15, 22, 32, 30])
    estimate = estimate_r(total, si_distr=w, t_start=t_start, t_end=t_end)
    assert list(estimate.t_start) == list(t_start)
    for i, (start, end) in enumerate(zip(t_start, t_end, strict=True)):
        mean, quantiles = _loop_reference(local, total, w, int(start), int(end))
        assert estimate.mean[i] == pytest.approx(mean, rel=1e-12)
        np.testing.assert_allclose(estimate.quantiles[i], quantiles, rtol=1e-9)


def test_windows_ending_before_the_mean_serial_interval_are_dropped() -> None:
    estimate = estimate_r(np.arange(1, 11), mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD, window=1)
    # Day 2 is not after the mean of 2.6 days, so the first one-day window kept is day 3.
    assert estimate.t_start[0] == 3
    assert np.all(estimate.t_end > estimate.si_mean)


def test_many_jurisdictions_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(20130501)
    local = rng.poisson(rng.gamma(2.0, 10.0, size=(4, 3, 1)), size=(4, 3, 60)).astype(float)
    imported = rng.poisson(1.0, size=(4, 3, 60)).astype(float)
    stacked = estimate_r(local, imported, mean_si=5.0, std_si=2.0)
    assert stacked.mean.shape == (4, 3, stacked.t_start.size)
    assert stacked.quantiles.shape == (4, 3, stacked.t_start.size, len(QUANTILE_LEVELS))
    for j in range(4):
        for k in range(3):
            single = estimate_r(local[j, k], imported[j, k], mean_si=5.0, std_si=2.0)
            np.testing.assert_allclose(stacked.mean[j, k], single.mean, rtol=1e-12)
            np.testing.assert_allclose(stacked.quantiles[j, k], single.quantiles, rtol=1e-12)


def test_quantile_lookup_by_level() -> None:
    estimate = _example_estimate(1)
    np.testing.assert_array_equal(estimate.quantile(0.5), estimate.epiestim_columns()["Median(R)"])
    with pytest.raises(KeyError):
        estimate.quantile(0.9)


@pytest.mark.parametrize(
    ("si_distr", "message"),
    [
        ([0.1, 0.5, 0.4], "must be 0"),
        ([0.0, 0.5, 0.4], "sum to 1"),
        ([0.0, 1.2, -0.2], "negative"),
        ([0.0, float("nan"), 1.0], "non-finite"),
    ],
)
def test_rejects_bad_serial_interval(si_distr: list[float], message: str) -> None:
    with pytest.raises(RtInputError, match=message):
        estimate_r(np.ones(20), si_distr=si_distr)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either si_distr or both"),
        ({"si_distr": [0, 1], "mean_si": 2.6, "std_si": 1.5}, "not both"),
        ({"mean_si": 0.9, "std_si": 1.5}, "> 1 day"),
        ({"mean_si": 2.6, "std_si": 1.5, "t_start": [1], "t_end": [7]}, "within days"),
        ({"mean_si": 2.6, "std_si": 1.5, "t_start": [2], "t_end": [21]}, "within days"),
        ({"mean_si": 2.6, "std_si": 1.5, "t_start": [9], "t_end": [8]}, "<= its t_end"),
        ({"mean_si": 2.6, "std_si": 1.5, "t_start": [2]}, "both t_start and t_end"),
        ({"mean_si": 2.6, "std_si": 1.5, "window": 20}, "too few"),
    ],
)
def test_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RtInputError, match=message):
        estimate_r(np.ones(20), **kwargs)  # type: ignore[arg-type]


def test_rejects_negative_counts_and_mismatched_shapes() -> None:
    with pytest.raises(RtInputError, match="negative"):
        estimate_r([1, 2, -1, 3, 4, 5, 6, 7, 8], mean_si=2.6, std_si=1.5, window=3)
    with pytest.raises(RtInputError, match="shape"):
        estimate_r(np.ones(10), np.ones(9), mean_si=2.6, std_si=1.5)


def test_discretised_serial_interval_has_the_requested_mean() -> None:
    w = discretised_serial_interval(6.5, 4.0, 200)
    days = np.arange(w.size)
    assert w[0] == 0
    assert w.sum() == pytest.approx(1.0, abs=1e-9)
    # Offsetting by one day and spreading onset uniformly within the day keeps the mean.
    assert (w * days).sum() == pytest.approx(6.5, abs=1e-6)


series = hnp.arrays(np.int64, st.integers(15, 60), elements=st.integers(0, 40)).filter(
    lambda a: a[:8].sum() > 0
)


@settings(max_examples=60, deadline=None)
@given(incidence=series, factor=st.integers(2, 50))
def test_more_data_moves_the_posterior_mean_from_the_prior_toward_the_data(
    incidence: np.ndarray, factor: int
) -> None:
    # Posterior mean is (a + cL) / (1/b + cΛ) for incidence scaled by c: a mix of the prior mean and
    # the ratio L/Λ that leans further to the ratio as c grows, with a smaller coefficient of variation.
    base = estimate_r(incidence, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    scaled = estimate_r(incidence * factor, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    windows = estimate_r(incidence * 10**9, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD).mean  # ≈ L/Λ
    informative = (base.scale < 4.0) & (np.abs(base.mean - windows) > 1e-6)
    gap_base = np.abs(base.mean - windows)[informative]
    gap_scaled = np.abs(scaled.mean - windows)[informative]
    assert np.all(gap_scaled <= gap_base + 1e-9)
    lo = np.minimum(DEFAULT_MEAN_PRIOR, windows) - 1e-9
    hi = np.maximum(DEFAULT_MEAN_PRIOR, windows) + 1e-9
    assert np.all((base.mean >= lo) & (base.mean <= hi))
    assert np.all(scaled.std / scaled.mean <= base.std / base.mean + 1e-12)


@settings(max_examples=60, deadline=None)
@given(
    incidence=hnp.arrays(np.float64, st.integers(10, 40), elements=st.floats(0, 500)),
    mean_si=st.floats(1.5, 12.0),
    std_si=st.floats(0.5, 6.0),
    whole=st.booleans(),
)
def test_quantiles_are_gamma_quantiles_in_order(
    incidence: np.ndarray, mean_si: float, std_si: float, whole: bool
) -> None:
    # Whole counts and fractional ones (e.g. imputed cases) take different routes to the quantiles.
    counts = np.round(incidence) if whole else incidence
    estimate = estimate_r(counts, mean_si=mean_si, std_si=std_si, window=3)
    expected = stats.gamma.ppf(
        np.asarray(QUANTILE_LEVELS), estimate.shape[:, None], scale=estimate.scale[:, None]
    )
    np.testing.assert_allclose(estimate.quantiles, expected, rtol=1e-9)
    assert np.all(np.diff(estimate.quantiles, axis=-1) > 0)


@settings(max_examples=60, deadline=None)
@given(
    incidence=hnp.arrays(np.int64, st.integers(12, 40), elements=st.integers(0, 30)),
    day=st.integers(0, 11),
    extra=st.integers(1, 20),
)
def test_reclassifying_cases_as_imported_never_raises_rt(incidence: np.ndarray, day: int, extra: int) -> None:
    local = incidence.astype(float)
    local[day] += extra
    imported = np.zeros_like(local)
    imported[day] = extra
    as_local = estimate_r(local, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    as_imported = estimate_r(local - imported, imported, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD)
    assert np.all(as_imported.mean <= as_local.mean + 1e-12)


@settings(max_examples=60, deadline=None)
@given(incidence=series, factor=st.integers(2, 1000))
def test_with_a_vague_prior_rt_is_blind_to_the_scale_of_incidence(incidence: np.ndarray, factor: int) -> None:
    # Prior shape (m/s)^2 = 1e-12 and scale s^2/m = 1e9: the posterior mean is L/Λ, a ratio of cases.
    base = estimate_r(incidence, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD, mean_prior=1e-3, std_prior=1e3)
    scaled = estimate_r(
        incidence * factor, mean_si=FLU_SI_MEAN, std_si=FLU_SI_SD, mean_prior=1e-3, std_prior=1e3
    )
    informative = base.scale < 1.0
    np.testing.assert_allclose(scaled.mean[informative], base.mean[informative], rtol=1e-6, atol=1e-9)
