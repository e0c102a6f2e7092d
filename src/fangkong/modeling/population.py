"""The simulator's population: from the registry (real households and communities) or generated.

From the registry (:func:`from_registry`): one agent per registered person, age from the birth date,
household from the household record, and the community the person lives in as the area that the
risk-area rules lock down. Schools, workplaces and community contacts are drawn as in the simulator's
hybrid population (Covasim's layers), since the registry does not hold them.

Generated (:func:`generated`): a population of a given size with China's 2020 census age pyramid and
household sizes (``core/data``, sources in their headers).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from fangkong.analytics import sim
from fangkong.core.people import PopulationArrays

# Upper age of the census pyramid's open top band (100 and over), years; drawn as 100-104 as the demo
# population does (core.demo.population).
CENSUS_MAX_AGE: Final[int] = 105


def from_registry(
    arrays: PopulationArrays,
    rng: np.random.Generator,
    vaccinated: npt.NDArray[np.bool_] | None = None,
) -> sim.Population:
    """Agents for the registry's people: index ``i`` is ``arrays.person_id[i]``; ``vaccinated`` (one
    entry per person, from the vaccination capability's status) marks the protected ones."""
    if arrays.size == 0:
        raise ValueError("no people are registered in this jurisdiction")
    household = arrays.household_id.copy()
    # People without a household record live alone: give each a household of their own.
    alone = household < 0
    household[alone] = household.max(initial=0) + 1 + np.arange(int(alone.sum()))
    return sim.population_from_arrays(
        arrays.age, household, arrays.jurisdiction_id, rng, vaccinated=vaccinated
    )


def census_shares() -> tuple[list[float], list[float], list[float]]:
    """China 2020 census: (age band lower edges, their shares, household-size shares for sizes 1..10)."""
    from fangkong.core.demo.population import load_age_pyramid, load_household_sizes

    pyramid = load_age_pyramid()
    counts = (pyramid.male + pyramid.female).astype(np.float64)
    _sizes, household_shares = load_household_sizes()
    return (
        [float(a) for a in pyramid.age_from],
        [float(c) for c in counts / counts.sum()],
        [float(s) for s in household_shares],
    )


def generated(size: int, rng: np.random.Generator, *, area_size: int | None = None) -> sim.Population:
    """``size`` people with the census age pyramid and household sizes, in compounds of ``area_size``."""
    if size < 1:
        raise ValueError("the population needs at least one person")
    ages, shares, households = census_shares()
    settings = sim.ContactSettings() if area_size is None else sim.ContactSettings(area_size=area_size)
    return sim.make_population(
        size,
        ages,
        shares,
        rng,
        max_age=CENSUS_MAX_AGE,
        household_size_shares=households,
        settings=settings,
    )
