"""Dorfman pooling against the reference table, a simulated campaign and the rules of a round."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.analytics.pooling import (
    PoolingInputError,
    expected_tests_per_person,
    optimal_pool_size,
    plan_round,
    resolve_round,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pooling"


def _reference_rows() -> list[dict[str, str]]:
    with (FIXTURES / "dorfman.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda row: f"p={row['prevalence']}")
def test_reproduces_every_reference_row(row: dict[str, str]) -> None:
    prevalence = float(row["prevalence"])
    best = optimal_pool_size(prevalence)
    assert best == int(row["optimal_pool_size"])
    assert f"{float(expected_tests_per_person(prevalence, best)):.6f}" == row["tests_per_person_at_optimum"]
    for size in (5, 10, 20):
        printed = row[f"tests_per_person_k{size}"]
        assert f"{float(expected_tests_per_person(prevalence, size)):.6f}" == printed


def test_imperfect_test_by_hand() -> None:
    # p = 0.01, k = 10, Se = 0.9, Sp = 0.99: 0.99^10 = 0.9043820750; 1/10 + 0.9 (1 - 0.9043820750)
    # + 0.01 (0.9043820750) = 0.1 + 0.0860561325 + 0.0090438208 = 0.1950999533.
    value = expected_tests_per_person(0.01, 10, sensitivity=0.9, specificity=0.99)
    assert float(value) == pytest.approx(0.1950999533, abs=1e-9)


def test_individual_testing_costs_one_test_each() -> None:
    np.testing.assert_array_equal(expected_tests_per_person([0.0, 0.3, 1.0], 1), [1.0, 1.0, 1.0])


def test_broadcasts_prevalence_against_pool_size() -> None:
    table = expected_tests_per_person(np.array([[0.001], [0.01]]), np.array([2, 5, 10]))
    assert table.shape == (2, 3)
    assert np.all(table[1] > table[0])


def test_pool_size_cap_is_respected() -> None:
    assert optimal_pool_size(0.0001, max_pool_size=10) == 10
    assert optimal_pool_size(0.0, max_pool_size=16) == 16


def test_simulated_campaign_costs_what_the_formula_says() -> None:
    rng = np.random.default_rng(1943)
    prevalence, size, people = 0.01, 11, 220_000
    infected = rng.random(people) < prevalence
    plan = plan_round(people, size)
    tube_positive = np.bincount(plan.tube_of_person, weights=infected, minlength=plan.n_tubes) > 0
    outcome = resolve_round(plan, tube_positive)
    expected = float(expected_tests_per_person(prevalence, size))
    # Over 20,000 tubes of 11 the standard error of tests per person is about 0.0022; allow 3.5 of them.
    assert outcome.tests / people == pytest.approx(expected, abs=0.008)
    assert set(np.flatnonzero(infected)) <= set(outcome.recall)


def test_plan_keeps_sampling_order_and_only_the_last_tube_is_short() -> None:
    plan = plan_round(23, 10)
    assert plan.n_tubes == 3
    assert list(plan.tube_of_person) == [0] * 10 + [1] * 10 + [2] * 3
    assert list(plan.people_in_tube(2)) == [20, 21, 22]


def test_a_person_alone_in_a_positive_tube_is_positive_not_recalled() -> None:
    plan = plan_round(21, 10)
    outcome = resolve_round(plan, np.array([True, False, True]))
    assert list(outcome.recall) == list(range(10))
    assert list(outcome.positive) == [20]
    assert list(outcome.cleared) == list(range(10, 20))
    assert outcome.tests == 3 + 10


@given(st.floats(1e-6, 0.3))
def test_pooling_beats_individual_testing_at_low_prevalence(prevalence: float) -> None:
    best = optimal_pool_size(prevalence)
    at_best = float(expected_tests_per_person(prevalence, best))
    assert at_best < 1.0
    neighbours = np.arange(max(1, best - 5), best + 6)
    assert np.all(expected_tests_per_person(prevalence, neighbours) >= at_best)


@given(st.floats(1e-5, 0.9), st.floats(1e-5, 0.9))
def test_optimal_pool_shrinks_as_prevalence_rises(p_a: float, p_b: float) -> None:
    low, high = sorted((p_a, p_b))
    assert optimal_pool_size(low) >= optimal_pool_size(high)


@given(st.floats(0.32, 1.0))
def test_high_prevalence_means_individual_testing(prevalence: float) -> None:
    assert optimal_pool_size(prevalence) == 1


@given(
    st.integers(0, 300),
    st.integers(1, 30),
    st.lists(st.booleans(), min_size=300, max_size=300),
)
def test_round_accounts_for_everyone(people: int, size: int, infected_flags: list[bool]) -> None:
    infected = np.array(infected_flags[:people], dtype=bool)
    plan = plan_round(people, size)
    assert plan.n_tubes == -(-people // size)
    assert np.all(np.bincount(plan.tube_of_person, minlength=plan.n_tubes) <= size)
    tube_positive = np.bincount(plan.tube_of_person, weights=infected, minlength=plan.n_tubes) > 0
    outcome = resolve_round(plan, tube_positive)
    groups = [set(outcome.recall), set(outcome.positive), set(outcome.cleared)]
    assert sum(len(group) for group in groups) == people
    assert set().union(*groups) == set(range(people))
    # A perfect test clears no infected person.
    assert not set(np.flatnonzero(infected)) & groups[2]
    assert outcome.tests == plan.n_tubes + len(outcome.recall)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: expected_tests_per_person(1.5, 5), "prevalence"),
        (lambda: expected_tests_per_person(0.1, 0), "pool_size"),
        (lambda: expected_tests_per_person(0.1, 5, sensitivity=1.1), "sensitivity"),
        (lambda: optimal_pool_size(0.0), "max_pool_size"),
        (lambda: plan_round(10, 0), "pool_size"),
        (lambda: resolve_round(plan_round(10, 5), np.array([True])), "2 tube results"),
        (lambda: resolve_round(plan_round(10, 5), np.array([1, 0])), "booleans"),
    ],
)
def test_rejects_bad_inputs(call: Callable[[], object], message: str) -> None:
    with pytest.raises(PoolingInputError, match=message):
        call()
