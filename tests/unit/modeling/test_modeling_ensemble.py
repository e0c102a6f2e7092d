"""Ensembles on common random numbers, in this process or in local processes, and populations."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from fangkong.analytics import sim
from fangkong.core.people import PopulationArrays
from fangkong.modeling import ensemble, population
from fangkong.modeling.ensemble import EnsembleError, run_ensemble
from fangkong.modeling.strategies import arm


@pytest.fixture(scope="module")
def people() -> sim.Population:
    return population.generated(4_000, np.random.default_rng(3), area_size=500)


def _arms() -> dict[str, sim.Strategy]:
    return {name: arm(name).strategy for name in ("cn-9", "none")}


def test_every_arm_runs_every_seed_and_progress_counts_the_runs(people: sim.Population) -> None:
    seen: list[tuple[int, int]] = []
    results = run_ensemble(
        people,
        sim.Parameters(initial_infections=10),
        _arms(),
        30,
        [4, 5, 6],
        progress=lambda d, n: seen.append((d, n)),
    )
    assert set(results) == {"cn-9", "none"}
    assert all(len(runs) == 3 for runs in results.values())
    assert seen == [(k, 6) for k in range(1, 7)]
    # Per-person counters stay in the worker: the account needs the daily figures only.
    assert results["none"][0].agents == {}


def test_arms_share_their_seeds_so_the_response_is_the_only_difference(people: sim.Population) -> None:
    params = sim.Parameters(initial_infections=10)
    twice = run_ensemble(people, params, {"a": arm("none").strategy, "b": arm("none").strategy}, 30, [9])
    assert np.array_equal(twice["a"][0].table(), twice["b"][0].table())
    results = run_ensemble(people, params, _arms(), 30, [9])
    none, cn9 = results["none"][0].totals, results["cn-9"][0].totals
    assert cn9["infections"] < none["infections"]
    assert none["tests"] == 0 < cn9["tests"]


@pytest.mark.slow
def test_local_processes_give_the_same_results_as_this_process(people: sim.Population) -> None:
    params = sim.Parameters(initial_infections=10)
    here = run_ensemble(people, params, _arms(), 20, [1, 2])
    there = run_ensemble(people, params, _arms(), 20, [1, 2], workers=2)
    for name in here:
        for a, b in zip(here[name], there[name], strict=True):
            assert np.array_equal(a.table(), b.table())


@pytest.mark.skipif(importlib.util.find_spec("dask") is not None, reason="dask is installed here")
def test_without_dask_a_scheduler_address_gets_a_clear_message(people: sim.Population) -> None:
    with pytest.raises(EnsembleError, match="dask"):
        run_ensemble(people, sim.Parameters(), _arms(), 5, [1], scheduler="tcp://127.0.0.1:8786")


def test_bad_seeds_or_no_arm_are_refused() -> None:
    with pytest.raises(EnsembleError):
        ensemble.jobs_for({}, [1])
    with pytest.raises(EnsembleError):
        ensemble.jobs_for({"none": arm("none").strategy}, [1, 1])


def test_a_generated_population_follows_the_census_pyramid() -> None:
    ages, shares, _households = population.census_shares()
    people = population.generated(50_000, np.random.default_rng(1))
    assert people.size == 50_000
    over_60 = sum(s for a, s in zip(ages, shares, strict=True) if a >= 60)
    assert np.mean(people.age >= 60) == pytest.approx(over_60, abs=0.01)


def test_a_registry_population_keeps_households_and_communities() -> None:
    arrays = PopulationArrays(
        person_id=np.array([11, 12, 13, 14, 15], dtype=np.int64),
        age=np.array([40, 38, 9, 70, 25], dtype=np.int64),
        household_id=np.array([7, 7, 7, -1, -1], dtype=np.int64),
        jurisdiction_id=np.array([101, 101, 101, 102, 102], dtype=np.int64),
        as_of=__import__("datetime").date(2024, 1, 1),
    )
    people = population.from_registry(arrays, np.random.default_rng(1))
    assert people.size == 5
    assert sorted(people.layers[0].contacts_of(0).tolist()) == [1, 2]
    assert people.layers[0].contacts_of(3).size == 0 and people.layers[0].contacts_of(4).size == 0  # alone
    assert people.area.tolist() == [0, 0, 0, 1, 1]
    assert people.age.tolist() == [40, 38, 9, 70, 25]


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_results_as_this_process(people: sim.Population) -> None:
    distributed = pytest.importorskip("dask.distributed")
    params = sim.Parameters(initial_infections=10)
    here = run_ensemble(people, params, _arms(), 20, [1, 2])
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        there = run_ensemble(people, params, _arms(), 20, [1, 2], scheduler=cluster.scheduler_address)
    for name in here:
        for a, b in zip(here[name], there[name], strict=True):
            assert np.array_equal(a.table(), b.table())
