"""The RKI detector's Poisson limits, computed, against the published Crow & Gardner (1959) table."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from fangkong.analytics.detection.poisson_ci import acceptance_region, crow_gardner_upper, upper_limit_table

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"


def _published() -> np.ndarray:
    with (FIXTURES / "crow_gardner_95_upper.csv").open(newline="") as handle:
        return np.array([float(r["upper"]) for r in csv.DictReader(handle)])


def test_table_matches_the_published_limits_to_their_last_decimal() -> None:
    published = _published()
    computed = upper_limit_table()
    assert computed.shape == published.shape
    np.testing.assert_allclose(computed, published, rtol=0, atol=1e-3 + 1e-9)
    # All but one row agree exactly; count 11 (19.0505..) rounds up where the table prints 19.050.
    assert np.flatnonzero(np.abs(computed - published) > 1e-9).tolist() == [11]


def test_acceptance_regions_are_shortest_with_enough_probability() -> None:
    for mu in (0.5, 2.0, 7.3, 15.0):
        low, high = acceptance_region(mu)
        coverage = stats.poisson.cdf(high, mu) - stats.poisson.cdf(low - 1, mu)
        assert coverage >= 0.95
        width = high - low + 1
        for start in range(0, high + 2):
            shorter = stats.poisson.cdf(start + width - 2, mu) - stats.poisson.cdf(start - 1, mu)
            assert shorter < 0.95


def test_upper_limit_is_where_the_count_leaves_the_region() -> None:
    limit = crow_gardner_upper(3)
    assert acceptance_region(limit - 1e-6)[0] <= 3 < acceptance_region(limit + 1e-6)[0]
    # Crow-Gardner limits are shorter than the equal-tailed exact (Garwood) ones.
    assert limit < stats.chi2.ppf(0.975, 2 * 4) / 2
