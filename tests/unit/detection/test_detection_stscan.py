"""Prospective space-time permutation scan: planted clusters, null data, brute force, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.stscan import space_time_permutation_scan


def _null_cases(rng: np.random.Generator, areas: int, days: int, total: int) -> np.ndarray:
    """Cases whose place and day are independent: a multinomial on the product of the margins."""
    where = rng.dirichlet(np.full(areas, 3.0))
    when = rng.dirichlet(np.full(days, 5.0))
    return rng.multinomial(total, np.outer(where, when).ravel()).reshape(areas, days).astype(float)


def _llr(c: float, mu: float, total: float) -> float:
    if c <= mu:
        return 0.0
    rest = total - c
    return c * math.log(c / mu) + (rest * math.log(rest / (total - mu)) if rest > 0 else 0.0)


def _brute_force_max(
    cases: np.ndarray, xy: np.ndarray, max_share: float, max_days: int, min_cases: int
) -> tuple[float, set[int], int]:
    """Every circle around every centre crossed with every window ending on the last day."""
    total = cases.sum()
    expected = np.outer(cases.sum(axis=1), cases.sum(axis=0)) / total
    n_areas, n_days = cases.shape
    best: tuple[float, set[int], int] = (0.0, set(), 0)
    for centre in range(n_areas):
        dist = np.hypot(*(xy - xy[centre]).T)
        for radius in np.unique(dist):
            zone = np.flatnonzero(dist <= radius)
            if cases[zone].sum() > max_share * total:
                break
            for length in range(1, max_days + 1):
                window = slice(n_days - length, n_days)
                c = cases[zone, window].sum()
                if c < min_cases:
                    continue
                llr = _llr(c, expected[zone, window].sum(), total)
                if llr > best[0] + 1e-12:
                    best = (llr, set(zone.tolist()), length)
    return best


def test_expected_counts_keep_both_margins_and_the_total() -> None:
    rng = np.random.default_rng(1)
    cases = _null_cases(rng, 12, 20, 300)
    res = space_time_permutation_scan(cases, rng.uniform(size=(12, 2)), rng=rng, replicates=9)
    assert res.expected.sum() == pytest.approx(cases.sum())
    np.testing.assert_allclose(res.expected.sum(axis=1), cases.sum(axis=1))
    np.testing.assert_allclose(res.expected.sum(axis=0), cases.sum(axis=0))


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_most_likely_cluster_is_the_brute_force_maximum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases = _null_cases(rng, 9, 12, 150)
    cases[rng.integers(0, 9), -2:] += 3
    xy = rng.uniform(0, 5, size=(9, 2))
    res = space_time_permutation_scan(cases, xy, rng=rng, replicates=0, max_share=0.5, max_days=4)
    llr, zone, length = _brute_force_max(cases, xy, 0.5, 4, 2)
    top = res.most_likely
    assert top is not None
    assert top.llr == pytest.approx(llr, rel=1e-12)
    assert set(top.areas.tolist()) == zone
    assert top.end_day - top.start_day + 1 == length
    assert top.observed == cases[top.areas, top.start_day :].sum()
    assert top.expected == pytest.approx(res.expected[top.areas, top.start_day :].sum())


def test_planted_cluster_is_found_with_a_small_pvalue() -> None:
    rng = np.random.default_rng(5)
    areas, days = 40, 30
    xy = rng.uniform(0, 10, size=(areas, 2))
    cases = _null_cases(rng, areas, days, 600)
    planted = np.argsort(np.hypot(*(xy - xy[0]).T))[:3]
    cases[planted, -3:] += 4
    res = space_time_permutation_scan(cases, xy, rng=np.random.default_rng(6), replicates=199, max_days=7)
    top = res.most_likely
    assert top is not None
    assert len(set(top.areas.tolist()) & set(planted.tolist())) >= 2
    assert top.end_day == days - 1
    assert top.start_day >= days - 4
    assert top.pvalue <= 0.01
    assert top.recurrence_interval_days >= 100
    assert top.observed > 2 * top.expected


def test_no_space_time_interaction_gives_large_pvalues_most_of_the_time() -> None:
    rng = np.random.default_rng(7)
    pvalues = []
    for _ in range(20):
        cases = _null_cases(rng, 15, 20, 250)
        res = space_time_permutation_scan(
            cases, rng.uniform(size=(15, 2)), rng=rng, replicates=99, max_days=5
        )
        assert res.most_likely is not None
        pvalues.append(res.most_likely.pvalue)
    # Under the null P(p < 0.05) is at most about 0.05: 5 or more of 20 has probability below 2%.
    assert sum(p < 0.05 for p in pvalues) <= 4
    assert np.median(pvalues) > 0.2


def test_pvalue_is_the_rank_among_replicate_maxima() -> None:
    rng = np.random.default_rng(8)
    cases = _null_cases(rng, 10, 15, 200)
    res = space_time_permutation_scan(cases, rng.uniform(size=(10, 2)), rng=rng, replicates=49)
    assert res.replicate_llr.shape == (49,)
    for cluster in res.clusters:
        rank = 1 + np.count_nonzero(res.replicate_llr >= cluster.llr)
        assert cluster.pvalue == pytest.approx(rank / 50)
        assert cluster.recurrence_interval_days == pytest.approx(1 / cluster.pvalue)


def test_secondary_clusters_share_no_area_and_come_in_llr_order() -> None:
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 10, size=(30, 2))
    cases = _null_cases(rng, 30, 20, 500)
    cases[[3, 17], -2:] += 5
    res = space_time_permutation_scan(cases, xy, rng=rng, replicates=19, max_share=0.2)
    assert len(res.clusters) >= 2
    seen: set[int] = set()
    for cluster in res.clusters:
        areas = set(cluster.areas.tolist())
        assert not areas & seen
        seen |= areas
        assert cases[cluster.areas].sum() <= 0.2 * cases.sum()
    llrs = [c.llr for c in res.clusters]
    assert llrs == sorted(llrs, reverse=True)


def _full_permutation_maxima(
    cases: np.ndarray, xy: np.ndarray, rng: np.random.Generator, replicates: int, max_days: int
) -> np.ndarray:
    """Replicates the slow way: shuffle the dates of all cases, rebuild the table, brute-force scan."""
    area_of_case = np.repeat(np.arange(cases.shape[0]), cases.sum(axis=1).astype(int))
    day_of_case = np.concatenate(
        [np.repeat(np.arange(cases.shape[1]), cases[a].astype(int)) for a in range(cases.shape[0])]
    )
    out = np.empty(replicates)
    for r in range(replicates):
        table = np.zeros_like(cases)
        np.add.at(table, (area_of_case, rng.permutation(day_of_case)), 1.0)
        out[r] = _brute_force_max(table, xy, 0.5, max_days, 2)[0]
    return out


def test_replicates_follow_the_full_date_permutation_distribution() -> None:
    rng = np.random.default_rng(10)
    cases = _null_cases(rng, 7, 10, 80)
    xy = rng.uniform(size=(7, 2))
    fast = space_time_permutation_scan(cases, xy, rng=np.random.default_rng(11), replicates=400, max_days=3)
    slow = _full_permutation_maxima(cases, xy, np.random.default_rng(12), 400, 3)
    assert stats.ks_2samp(fast.replicate_llr, slow).pvalue > 0.001
    assert abs(np.mean(fast.replicate_llr) - np.mean(slow)) < 0.25 * np.std(slow)


def test_same_generator_seed_gives_the_same_scan() -> None:
    rng = np.random.default_rng(13)
    cases = _null_cases(rng, 10, 12, 150)
    xy = rng.uniform(size=(10, 2))
    a = space_time_permutation_scan(cases, xy, rng=np.random.default_rng(1), replicates=29)
    b = space_time_permutation_scan(cases, xy, rng=np.random.default_rng(1), replicates=29)
    np.testing.assert_array_equal(a.replicate_llr, b.replicate_llr)
    assert [c.pvalue for c in a.clusters] == [c.pvalue for c in b.clusters]


def test_neighbour_and_radius_limits_bound_the_circles() -> None:
    rng = np.random.default_rng(14)
    xy = rng.uniform(0, 10, size=(20, 2))
    cases = _null_cases(rng, 20, 15, 300)
    cases[[0, 1, 2], -2:] += 4
    only_one = space_time_permutation_scan(cases, xy, rng=rng, replicates=9, max_neighbours=1)
    assert all(c.areas.shape == (1,) for c in only_one.clusters)
    small = space_time_permutation_scan(cases, xy, rng=rng, replicates=9, max_radius=2.0)
    assert all(c.radius <= 2.0 for c in small.clusters)
    for c in small.clusters:
        assert np.hypot(*(xy[c.areas] - xy[c.centre]).T).max() == pytest.approx(c.radius)


def test_no_cases_means_no_cluster() -> None:
    res = space_time_permutation_scan(np.zeros((4, 5)), np.zeros((4, 2)), rng=np.random.default_rng(0))
    assert res.most_likely is None
    assert res.clusters == ()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cases": np.full((3, 4), 0.5)}, "whole"),
        ({"cases": -np.ones((3, 4))}, "non-negative"),
        ({"centroids": np.zeros((2, 2))}, "centroids"),
        ({"max_share": 0.0}, "max_share"),
        ({"max_days": 9}, "max_days"),
        ({"max_neighbours": 0}, "max_neighbours"),
        ({"replicates": -1}, "replicates"),
        ({"rng": 42}, "rng"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "cases": np.ones((3, 4)),
        "centroids": np.zeros((3, 2)),
        "rng": np.random.default_rng(0),
        **kwargs,
    }
    with pytest.raises(DetectorParameterError, match=match):
        space_time_permutation_scan(args.pop("cases"), args.pop("centroids"), **args)  # type: ignore[arg-type]
