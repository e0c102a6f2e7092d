"""Synthetic populations: ages, households, areas, and the contact layers in CSR form."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.analytics import sim
from fangkong.analytics.sim.parameters import COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES
from fangkong.analytics.sim.population import COVASIM_HOUSEHOLD_SIZE_SHARES, draw_ages


def _edges(layer: sim.ContactLayer) -> set[tuple[int, int]]:
    sources = np.repeat(np.arange(layer.indptr.size - 1), np.diff(layer.indptr))
    return set(zip(sources.tolist(), layer.indices.tolist(), strict=True))


def test_layers_are_symmetric_without_self_contacts(small_population: sim.Population) -> None:
    for layer in small_population.layers:
        assert layer.indices.dtype == np.int32
        assert layer.indptr.dtype == np.int64
        assert layer.indptr[-1] == layer.indices.size
        edges = _edges(layer)
        assert all(a != b for a, b in edges)
        assert all((b, a) in edges for a, b in edges)


def test_household_contacts_are_exactly_the_household(small_population: sim.Population) -> None:
    pop = small_population
    for person in range(0, pop.size, 97):
        mates = np.flatnonzero(pop.household == pop.household[person])
        expected = sorted(set(mates.tolist()) - {person})
        assert sorted(pop.layers[0].contacts_of(person).tolist()) == expected


def test_households_stay_within_one_area(small_population: sim.Population) -> None:
    pop = small_population
    for household in np.unique(pop.household)[::53]:
        assert np.unique(pop.area[pop.household == household]).size == 1
    sizes = np.bincount(pop.area)
    assert sizes.max() <= 500 + 12  # an area closes after the household that fills it


def test_mean_contacts_follow_the_settings() -> None:
    settings = sim.ContactSettings(
        school_structure="random", work_structure="random", community_local_share=0.0
    )
    pop = sim.make_population(30_000, COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES, np.random.default_rng(1),
                              settings=settings)  # fmt: skip
    pupils = (pop.age >= 6) & (pop.age < 22)
    workers = (pop.age >= 22) & (pop.age < 65)
    degree = [np.diff(layer.indptr) for layer in pop.layers]
    assert degree[1][pupils].mean() == pytest.approx(20, rel=0.05)
    assert degree[1][~pupils].max() == 0
    assert degree[2][workers].mean() == pytest.approx(16, rel=0.05)
    assert degree[2][~workers].max() == 0
    assert degree[3].mean() == pytest.approx(20, rel=0.05)
    # Household contacts: size - 1 for every member, from Covasim's Poisson(2) household sizes.
    shares = np.asarray(COVASIM_HOUSEHOLD_SIZE_SHARES)
    sizes = np.arange(1, shares.size + 1)
    expected = float((shares * sizes * (sizes - 1)).sum() / (shares * sizes).sum())
    assert degree[0].mean() == pytest.approx(expected, rel=0.05)


def test_groups_put_classmates_in_the_same_class() -> None:
    settings = sim.ContactSettings(school_contacts=20, school_structure="groups")
    pop = sim.make_population(5000, COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES, np.random.default_rng(2),
                              settings=settings)  # fmt: skip
    school = pop.layers[1]
    pupil = int(np.flatnonzero(np.diff(school.indptr) == 20)[0])
    classmates = school.contacts_of(pupil)
    for mate in classmates:
        assert set(school.contacts_of(int(mate)).tolist()) | {int(mate)} == set(classmates.tolist()) | {pupil}


def test_ages_follow_the_pyramid() -> None:
    ages = draw_ages(200_000, [0, 20, 60], [0.2, 0.5, 0.3], np.random.default_rng(3), max_age=90)
    assert ages.min() >= 0
    assert ages.max() < 90
    assert (ages < 20).mean() == pytest.approx(0.2, abs=0.01)
    assert ((ages >= 20) & (ages < 60)).mean() == pytest.approx(0.5, abs=0.01)


def test_population_from_registry_arrays_keeps_households_and_areas() -> None:
    rng = np.random.default_rng(4)
    age = np.array([34, 33, 5, 70, 71, 40, 12, 45, 44])
    household = np.array([900, 900, 900, 17, 17, 5, 5, 41, 41])
    area = np.array([7, 7, 7, 7, 7, 3, 3, 3, 3])
    pop = sim.population_from_arrays(age, household, area, rng, vaccinated=age >= 70)
    assert pop.size == 9
    assert pop.n_areas == 2
    assert sorted(pop.layers[0].contacts_of(0).tolist()) == [1, 2]
    assert pop.layers[0].contacts_of(3).tolist() == [4]
    assert pop.vaccinated.tolist() == [False, False, False, True, True, False, False, False, False]
    with pytest.raises(ValueError, match="one entry per person"):
        sim.population_from_arrays(age[:-1], household, area, rng)


def test_ten_million_would_fit_memory_budget() -> None:
    # Bytes per person at Covasim's contact numbers, measured on a small population, scaled to 10 M.
    settings = sim.ContactSettings(
        school_structure="random", work_structure="random", community_local_share=0.0
    )
    pop = sim.make_population(20_000, COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES, np.random.default_rng(5),
                              settings=settings)  # fmt: skip
    assert pop.nbytes / pop.size * 10_000_000 < 2.5e9
