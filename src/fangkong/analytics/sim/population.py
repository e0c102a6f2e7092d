"""Synthetic populations: people with ages, households, areas, and four contact layers.

A population is either generated for a size and an age pyramid (:func:`make_population`) or built from
arrays the platform takes from its registry (:func:`population_from_arrays`: age, household id, area id).
Either way it has the four layers of Covasim's "hybrid" population (Kerr et al. 2021): households,
schools, workplaces and community. Each layer is stored once as compressed sparse rows (``indptr``
int64, ``indices`` int32, every contact listed from both sides), which keeps ten million people with
Covasim's contact numbers near 1.5 GB.

Each person also has an ``area``: the residential compound or village that the risk-area rules lock
down. Households never straddle two areas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np
from numpy.typing import NDArray

Structure = Literal["groups", "random"]

# Covasim's hybrid households are clusters of Poisson(2) size with empty clusters dropped
# (covasim/population.py make_microstructured_contacts with contacts h=2.0). As household-size shares
# (sizes 1, 2, ...), household-weighted:
_POISSON2 = np.array([2.0**k / float(np.prod(np.arange(1, k + 1))) for k in range(1, 13)])
COVASIM_HOUSEHOLD_SIZE_SHARES = tuple(float(x) for x in _POISSON2 / _POISSON2.sum())


@dataclass(frozen=True)
class ContactSettings:
    """How schools, workplaces, community contacts and areas are laid out."""

    # school ages [from, to), years; Covasim make_hybrid_contacts school_ages
    school_ages: tuple[int, int] = (6, 22)
    # working ages [from, to), years; Covasim make_hybrid_contacts work_ages
    work_ages: tuple[int, int] = (22, 65)
    # school contacts per pupil, people; Covasim hybrid contacts s
    school_contacts: float = 20.0
    # workplace contacts per worker, people; Covasim hybrid contacts w
    work_contacts: float = 16.0
    # community contacts per person, people; Covasim hybrid contacts c
    community_contacts: float = 20.0
    # "groups": classes and workplaces of (contacts + 1) people who all meet; "random": Covasim's hybrid
    # random graph among people of school or working age
    school_structure: Structure = "groups"
    # as school_structure, for workplaces
    work_structure: Structure = "groups"
    # share of community contacts drawn inside one's own area, dimensionless; assumption (Covasim draws
    # all community contacts from the whole population, i.e. 0)
    community_local_share: float = 0.5
    # people per area, people; assumption: a residential compound (小区), the unit of a high-risk area
    # in protocol cn-9 (reference/protocols.md section 4, area.high.criteria)
    area_size: int = 3000


@dataclass(frozen=True)
class ContactLayer:
    """One contact layer in compressed sparse rows: person i's contacts are indices[indptr[i]:indptr[i+1]]."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]

    def contacts_of(self, person: int) -> NDArray[np.int32]:
        return self.indices[self.indptr[person] : self.indptr[person + 1]]

    def mean_contacts(self) -> float:
        n = self.indptr.shape[0] - 1
        return float(self.indices.shape[0] / n) if n else 0.0

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes)


@dataclass(frozen=True)
class Population:
    """People (by index 0..size-1) with their ages, households, areas, vaccination and contact layers."""

    age: NDArray[np.uint8]
    household: NDArray[np.int32]
    area: NDArray[np.int32]
    vaccinated: NDArray[np.bool_]
    layers: tuple[ContactLayer, ContactLayer, ContactLayer, ContactLayer]

    @property
    def size(self) -> int:
        return int(self.age.shape[0])

    @property
    def n_areas(self) -> int:
        return int(self.area.max()) + 1 if self.size else 0

    @property
    def nbytes(self) -> int:
        arrays = (self.age, self.household, self.area, self.vaccinated)
        return int(sum(a.nbytes for a in arrays) + sum(layer.nbytes for layer in self.layers))


def make_population(
    size: int,
    age_band_lower: Sequence[float],
    age_shares: Sequence[float],
    rng: np.random.Generator,
    *,
    max_age: int = 100,
    household_size_shares: Sequence[float] = COVASIM_HOUSEHOLD_SIZE_SHARES,
    settings: ContactSettings | None = None,
    vaccinated_share: float = 0.0,
) -> Population:
    """Generate ``size`` people with the given age pyramid, household sizes and contact settings.

    ``age_band_lower`` are the lower edges of the age bands in years (the last band ends at ``max_age``),
    ``age_shares`` their shares of the population. ``household_size_shares[k]`` is the share of
    households with k + 1 members. Ages are drawn independently of households, as in Covasim's hybrid
    population.
    """
    if size <= 0 or size >= 2**31 - 1:
        raise ValueError(f"size must be between 1 and 2**31 - 2, got {size}")
    settings = settings or ContactSettings()
    age = draw_ages(size, age_band_lower, age_shares, rng, max_age=max_age)
    household = _draw_households(size, household_size_shares, rng)
    area = _areas_from_households(household, settings.area_size)
    vaccinated = rng.random(size) < vaccinated_share
    return population_from_arrays(age, household, area, rng, settings=settings, vaccinated=vaccinated)


def population_from_arrays(
    age: NDArray[np.integer] | NDArray[np.floating],
    household: NDArray[np.integer],
    area: NDArray[np.integer],
    rng: np.random.Generator,
    *,
    settings: ContactSettings | None = None,
    vaccinated: NDArray[np.bool_] | None = None,
) -> Population:
    """Build the contact layers for people whose age, household and area are known (e.g. a registry).

    Household and area ids may be any non-negative integers; areas are renumbered 0..n-1 in order.
    """
    settings = settings or ContactSettings()
    age_arr = np.clip(np.asarray(age), 0, 255).astype(np.uint8)
    household_arr = np.asarray(household, dtype=np.int64)
    area_arr = np.asarray(area, dtype=np.int64)
    n = age_arr.shape[0]
    if household_arr.shape[0] != n or area_arr.shape[0] != n:
        raise ValueError("age, household and area must have one entry per person")
    if n and (household_arr.min() < 0 or area_arr.min() < 0):
        raise ValueError("household and area ids must be non-negative")
    _, area_dense = np.unique(area_arr, return_inverse=True)
    area_ids = area_dense.astype(np.int32)
    vacc = np.zeros(n, dtype=np.bool_) if vaccinated is None else np.asarray(vaccinated, dtype=np.bool_)

    household_layer = _household_layer(household_arr)
    school_members = np.flatnonzero(
        (age_arr >= settings.school_ages[0]) & (age_arr < settings.school_ages[1])
    )
    work_members = np.flatnonzero((age_arr >= settings.work_ages[0]) & (age_arr < settings.work_ages[1]))
    # Classes gather children of neighbouring homes; workplaces draw from the whole population.
    school_order = school_members[np.argsort(area_ids[school_members], kind="stable")]
    school_layer = _setting_layer(n, school_order, settings.school_contacts, settings.school_structure, rng)
    work_order = rng.permutation(work_members)
    work_layer = _setting_layer(n, work_order, settings.work_contacts, settings.work_structure, rng)
    community_layer = _community_layer(
        area_ids, settings.community_contacts, settings.community_local_share, rng
    )
    return Population(
        age=age_arr,
        household=household_arr.astype(np.int32),
        area=area_ids,
        vaccinated=vacc,
        layers=(household_layer, school_layer, work_layer, community_layer),
    )


def draw_ages(
    size: int,
    age_band_lower: Sequence[float],
    age_shares: Sequence[float],
    rng: np.random.Generator,
    *,
    max_age: int = 100,
) -> NDArray[np.uint8]:
    """Ages in whole years: a band by its share, then uniform within the band (as Covasim does)."""
    lower = np.asarray(age_band_lower, dtype=np.float64)
    shares = np.asarray(age_shares, dtype=np.float64)
    if lower.shape != shares.shape or lower.ndim != 1 or lower.size == 0:
        raise ValueError("age_band_lower and age_shares must be 1-D and of the same length")
    if np.any(shares < 0) or shares.sum() <= 0:
        raise ValueError("age_shares must be non-negative with a positive sum")
    upper = np.append(lower[1:], float(max_age))
    if np.any(upper <= lower):
        raise ValueError("age bands must increase and end below max_age")
    band = rng.choice(lower.size, size=size, p=shares / shares.sum())
    ages = lower[band] + (upper[band] - lower[band]) * rng.random(size)
    return np.minimum(np.floor(ages), 255).astype(np.uint8)


def _draw_households(size: int, shares: Sequence[float], rng: np.random.Generator) -> NDArray[np.int32]:
    p = np.asarray(shares, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or np.any(p < 0) or p.sum() <= 0:
        raise ValueError("household_size_shares must be a non-empty list of non-negative shares")
    p = p / p.sum()
    mean_size = float(np.dot(np.arange(1, p.size + 1), p))
    n_draw = int(size / mean_size * 1.1) + 16
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < size:
        sizes = np.concatenate([sizes, rng.choice(p.size, size=n_draw, p=p) + 1])
    ends = np.cumsum(sizes)
    n_households = int(np.searchsorted(ends, size)) + 1
    sizes = sizes[:n_households]
    sizes[-1] -= int(ends[n_households - 1]) - size
    return np.repeat(np.arange(n_households, dtype=np.int32), sizes)


def _areas_from_households(household: NDArray[np.int32], area_size: int) -> NDArray[np.int32]:
    if area_size <= 0:
        raise ValueError("area_size must be positive")
    # Households are contiguous runs of people; an area takes whole households until it is full.
    first_member = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
    household_area = (first_member // area_size).astype(np.int32)
    sizes = np.diff(np.r_[first_member, household.shape[0]])
    return np.repeat(household_area, sizes)


def _household_layer(household: NDArray[np.int64]) -> ContactLayer:
    order = np.argsort(household, kind="stable").astype(np.int32)
    sorted_ids = household[order]
    starts = (
        np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        if order.size
        else np.empty(0, np.int64)
    )
    group_ptr = np.r_[starts, order.size].astype(np.int64)
    indptr, indices = _clique_csr(household.shape[0], order, group_ptr)
    return ContactLayer(indptr, indices)


def _setting_layer(
    n: int, members: NDArray[np.int64], contacts: float, structure: Structure, rng: np.random.Generator
) -> ContactLayer:
    members32 = members.astype(np.int32)
    if structure == "groups":
        group_size = max(1, round(contacts) + 1)
        group_ptr = np.r_[np.arange(0, members32.size, group_size), members32.size].astype(np.int64)
        indptr, indices = _clique_csr(n, members32, group_ptr)
        return ContactLayer(indptr, indices)
    if structure == "random":
        return _random_layer(n, members32, contacts, rng)
    raise ValueError(f"unknown structure {structure!r}; use 'groups' or 'random'")


def _random_layer(
    n: int, members: NDArray[np.int32], contacts: float, rng: np.random.Generator
) -> ContactLayer:
    # Covasim's make_random_contacts: each member starts round(Poisson(contacts) / 2) contacts with
    # members chosen at random; listing each from both sides gives `contacts` on average.
    out_count = np.zeros(n, dtype=np.int32)
    out_count[members] = np.round(rng.poisson(contacts, members.size) / 2).astype(np.int32)
    targets = members[rng.integers(0, members.size, int(out_count.sum()))] if members.size else members
    indptr, indices = _edge_csr(out_count, targets.astype(np.int32))
    return ContactLayer(indptr, indices)


def _community_layer(
    area: NDArray[np.int32], contacts: float, local_share: float, rng: np.random.Generator
) -> ContactLayer:
    n = area.shape[0]
    out_count = np.round(rng.poisson(contacts, n) / 2).astype(np.int32)
    total = int(out_count.sum())
    targets = rng.integers(0, n, total, dtype=np.int32)
    if local_share > 0 and total:
        by_area = np.argsort(area, kind="stable").astype(np.int32)
        area_ptr = np.r_[0, np.cumsum(np.bincount(area, minlength=int(area.max()) + 1))].astype(np.int64)
        local = rng.random(total, dtype=np.float32) < local_share
        _localise(out_count, area, by_area, area_ptr, local, rng.random(total, dtype=np.float32), targets)
    indptr, indices = _edge_csr(out_count, targets)
    return ContactLayer(indptr, indices)


@nb.njit(cache=True)
def _localise(out_count, area, by_area, area_ptr, local, u, targets):  # type: ignore[no-untyped-def]
    e = 0
    for i in range(out_count.shape[0]):
        a = area[i]
        lo = area_ptr[a]
        width = area_ptr[a + 1] - lo
        for _ in range(out_count[i]):
            if local[e]:
                k = min(int(u[e] * width), width - 1)
                targets[e] = by_area[lo + k]
            e += 1


@nb.njit(cache=True)
def _clique_csr(n, members, group_ptr):  # type: ignore[no-untyped-def]
    degree = np.zeros(n, dtype=np.int64)
    for g in range(group_ptr.shape[0] - 1):
        size = group_ptr[g + 1] - group_ptr[g]
        for m in range(group_ptr[g], group_ptr[g + 1]):
            degree[members[m]] += size - 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        indptr[i + 1] = indptr[i] + degree[i]
    indices = np.empty(indptr[n], dtype=np.int32)
    fill = indptr[:n].copy()
    for g in range(group_ptr.shape[0] - 1):
        for m in range(group_ptr[g], group_ptr[g + 1]):
            a = members[m]
            for q in range(group_ptr[g], group_ptr[g + 1]):
                if q != m:
                    indices[fill[a]] = members[q]
                    fill[a] += 1
    return indptr, indices


@nb.njit(cache=True)
def _edge_csr(out_count, targets):  # type: ignore[no-untyped-def]
    # Edge e goes from the person whose out_count run contains e to targets[e]; self-loops are dropped
    # and every edge is listed from both ends.
    n = out_count.shape[0]
    degree = np.zeros(n, dtype=np.int64)
    e = 0
    for i in range(n):
        for _ in range(out_count[i]):
            j = targets[e]
            if j != i:
                degree[i] += 1
                degree[j] += 1
            e += 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        indptr[i + 1] = indptr[i] + degree[i]
    indices = np.empty(indptr[n], dtype=np.int32)
    fill = indptr[:n].copy()
    e = 0
    for i in range(n):
        for _ in range(out_count[i]):
            j = targets[e]
            if j != i:
                indices[fill[i]] = j
                fill[i] += 1
                indices[fill[j]] = i
                fill[j] += 1
            e += 1
    return indptr, indices
