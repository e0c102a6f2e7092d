"""Behavioural tests of the simulator: what a user of the strategy bench would check."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from fangkong.analytics import sim

SEEDS = (1, 2, 3, 4)


def test_beta_zero_gives_no_infections_beyond_the_seeds(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    no_spread = dataclasses.replace(params, beta=0.0)
    result = sim.simulate(small_population, no_spread, make_tt(), 60, np.random.default_rng(5))
    assert result.daily["new_infections"].sum() == 0
    assert result.totals["infections"] == params.initial_infections
    assert (result.agents["infected_day"] >= 0).sum() == params.initial_infections
    # The seeds still fall ill and get tested, so the run did do something.
    assert result.totals["tests"] > 0


def test_more_testing_means_fewer_infections_and_more_tests(
    small_population: sim.Population, params: sim.Parameters
) -> None:
    # Testing with case isolation only: with tracing, fewer cases also mean fewer quarantined contacts
    # to test, which can outweigh the extra routine tests.
    little = sim.Strategy(name="little", testing=sim.Testing(symptomatic_daily_prob=0.05))
    much = sim.Strategy(
        name="much", testing=sim.Testing(symptomatic_daily_prob=0.4, asymptomatic_daily_prob=0.01)
    )
    results = sim.compare([little, much], small_population, params, 90, seeds=SEEDS)
    little_inf = [r.totals["infections"] for r in results["little"]]
    much_inf = [r.totals["infections"] for r in results["much"]]
    little_tests = [r.totals["tests"] for r in results["little"]]
    much_tests = [r.totals["tests"] for r in results["much"]]
    assert np.mean(much_inf) < 0.9 * np.mean(little_inf)
    assert np.mean(much_tests) > np.mean(little_tests)
    # Same seeds on both arms: the comparison holds seed by seed, not only on average.
    assert sum(m < lt for m, lt in zip(much_inf, little_inf, strict=True)) >= 3
    assert all(m > lt for m, lt in zip(much_tests, little_tests, strict=True))


def test_quarantine_person_days_equal_the_sum_of_each_persons_days(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    # Stop mid-epidemic so that some people are still in quarantine at the end of the run.
    for days in (40, 75):
        result = sim.simulate(small_population, params, make_tt(), days, np.random.default_rng(8))
        person_days = result.totals["quarantine_person_days"]
        assert person_days > 0
        assert person_days == int(result.agents["quarantine_days"].sum())
        assert result.totals["people_quarantined"] == int(result.agents["times_quarantined"].sum())


def test_quarantine_stages_follow_the_plan(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    result = sim.simulate(small_population, params, make_tt(), 80, np.random.default_rng(8))
    # cn-9: 7 centralized days then 3 at home, so both kinds of quarantine are used, centralized more.
    centralized = result.totals["centralized_quarantine_person_days"]
    home = result.totals["quarantine_person_days"] - centralized
    assert centralized > home > 0
    quarantined = result.agents["times_quarantined"] > 0
    # A stay covers plan days from entry to day 10 (entry on the exposure day 0 for household contacts)
    # unless a new exposure restarts the count, as when a housemate in quarantine turns positive.
    per_stay = result.agents["quarantine_days"][quarantined] / result.agents["times_quarantined"][quarantined]
    assert np.median(per_stay) <= 11
    assert (per_stay <= 11).mean() > 0.75
    assert per_stay.max() > 11


def test_lockdown_reduces_infections(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    testing_only = sim.Strategy(name="testing", testing=sim.Testing(symptomatic_daily_prob=0.2))
    with_lockdown = dataclasses.replace(
        testing_only, name="lockdown", lockdown=sim.AreaLockdown(case_threshold=2, window_days=7)
    )
    results = sim.compare([testing_only, with_lockdown], small_population, params, 90, seeds=SEEDS)
    base = np.mean([r.totals["infections"] for r in results["testing"]])
    locked = np.mean([r.totals["infections"] for r in results["lockdown"]])
    assert locked < 0.8 * base
    assert all(r.totals["lockdown_person_days"] > 0 for r in results["lockdown"])
    assert all(r.totals["lockdown_person_days"] == 0 for r in results["testing"])


def test_same_seed_same_run_and_other_seed_other_run(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    a = sim.simulate(small_population, params, make_tt(), 50, np.random.default_rng(21))
    b = sim.simulate(small_population, params, make_tt(), 50, np.random.default_rng(21))
    c = sim.simulate(small_population, params, make_tt(), 50, np.random.default_rng(22))
    np.testing.assert_array_equal(a.table(), b.table())
    np.testing.assert_array_equal(a.agents["quarantine_days"], b.agents["quarantine_days"])
    assert not np.array_equal(a.table(), c.table())


def test_parallel_processes_give_the_same_results(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    arms = [sim.Strategy(name="none"), make_tt()]
    serial = sim.compare(arms, small_population, params, 30, seeds=(3, 4))
    parallel = sim.compare(arms, small_population, params, 30, seeds=(3, 4), workers=2)
    for name in ("none", "tt"):
        for s, p in zip(serial[name], parallel[name], strict=True):
            np.testing.assert_array_equal(s.table(), p.table())


def test_vaccination_goes_oldest_first_and_lowers_severe_illness(
    small_population: sim.Population, params: sim.Parameters
) -> None:
    doses = 150
    vaccinating = sim.Strategy(name="vaccine", vaccination=sim.Vaccination(doses_per_day=doses))
    results = sim.compare([sim.Strategy(name="none"), vaccinating], small_population, params, 60, seeds=SEEDS)
    run = results["vaccine"][0]
    given = run.daily["vaccine_doses"]
    assert given[0] == doses
    vaccinated_day = run.agents["vaccinated_day"]
    old = small_population.age >= 60
    assert (vaccinated_day[old] >= 0).mean() > 0.9
    first_young = vaccinated_day[~old & (vaccinated_day >= 0)].min()
    last_old = vaccinated_day[old & (vaccinated_day >= 0)].max()
    assert first_young >= last_old
    severe_none = np.mean([r.totals["severe"] for r in results["none"]])
    severe_vacc = np.mean([r.totals["severe"] for r in results["vaccine"]])
    assert severe_vacc < severe_none


def test_pooled_rounds_find_cases_with_fewer_tubes_than_samples(
    small_population: sim.Population, params: sim.Parameters
) -> None:
    rounds = sim.TestingRounds(every_days=3, first_day=10, coverage=0.9, pool_size=10, sensitivity=0.95)
    with_rounds = sim.Strategy(name="rounds", rounds=rounds)
    results = sim.compare([sim.Strategy(name="none"), with_rounds], small_population, params, 60, seeds=SEEDS)
    run = results["rounds"][0]
    n_rounds = len(range(10, 60, 3))
    assert run.daily["tests"][:10].sum() == 0
    assert run.daily["tests"][10] > 0.85 * small_population.size
    assert run.daily["tubes"][10] < 0.3 * run.daily["tests"][10]
    assert run.totals["tubes"] < run.totals["tests"]
    assert run.totals["tests"] >= n_rounds * 0.5 * small_population.size
    assert run.totals["diagnoses"] > 0
    none = np.mean([r.totals["infections"] for r in results["none"]])
    tested = np.mean([r.totals["infections"] for r in results["rounds"]])
    assert tested < none


def test_tracing_capacity_leaves_a_backlog(
    small_population: sim.Population, params: sim.Parameters, make_tt: Callable[..., sim.Strategy]
) -> None:
    unlimited = make_tt(symptomatic=0.3)
    assert unlimited.tracing is not None
    limited = dataclasses.replace(
        unlimited, name="limited", tracing=dataclasses.replace(unlimited.tracing, daily_capacity=1)
    )
    results = sim.compare([unlimited, limited], small_population, params, 70, seeds=SEEDS)
    assert all(r.daily["tracing_backlog"].max() == 0 for r in results["tt"])
    assert all(r.daily["tracing_backlog"].max() > 0 for r in results["limited"])
    traced = np.mean([r.totals["contacts_traced"] for r in results["tt"]])
    traced_limited = np.mean([r.totals["contacts_traced"] for r in results["limited"]])
    assert traced_limited < traced


def test_bad_strategy_is_refused_with_the_field_named(
    small_population: sim.Population, params: sim.Parameters
) -> None:
    bad = sim.Strategy(testing=sim.Testing(symptomatic_daily_prob=1.5))
    with pytest.raises(ValueError, match="symptomatic_daily_prob"):
        sim.simulate(small_population, params, bad, 5, np.random.default_rng(0))
