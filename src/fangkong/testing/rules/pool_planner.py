"""Pool-size planner for a regional testing round: tests, lab hours and missed positives per pool size.

The cost side is Dorfman's two-stage pooling, computed by the kernel in ``fangkong.analytics.pooling``
(expected tests per person and the optimal pool size, reproducing ``reference/pooling/dorfman.csv``).
The planner adds what the kernel leaves out:

- the laboratory: the expected number of tests for a population and the hours they take at the labs'
  capacity in tests per hour;
- the loss of sensitivity from dilution. Mixing equal volumes of ``k`` samples in the lab dilutes a
  positive sample ``k``-fold, and with a PCR efficiency near 100% each halving of the template delays
  amplification by one cycle, so its Ct rises by ``log2(k)`` (about 3.3 for 10-in-1; Yelin et al.,
  *Evaluation of COVID-19 RT-qPCR test in multi-sample pools*, Clin Infect Dis 2020;71(16):2073-2078).
  Pooling swabs at collection (混采: the ``k`` swabs go into one tube of medium) dilutes little: paired
  swab pools and single samples differed by 0.1 to 2.09 Ct on average (Christoff et al., *Swab pooling:
  a new method for large-scale RT-qPCR screening of SARS-CoV-2 avoiding sample dilution*, PLoS ONE
  2021;16(2):e0246544).

A positive is a person whose own tube would read below the assay's cut-off. In a pool of ``k`` with a Ct
shift ``s(k)`` the pool reads above the cut-off, and the person is missed, with probability
``P(Ct + s(k) > cutoff | Ct <= cutoff)`` over the Ct values of positives. The recall of a positive pool
tests single undiluted samples, so it loses nothing more. Two simplifications, both slightly pessimistic
at the low prevalences where pooling pays: a pool is taken to hold one positive (two positives raise its
concentration), and tests are counted as if every positive pool were found (a missed pool would save
its recall).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal, get_args

import numpy as np

from fangkong.analytics.pooling import PoolingInputError, expected_tests_per_person, optimal_pool_size

Collection = Literal["lab", "swab"]
"""Where samples are mixed: ``lab`` (equal volumes of single tubes, 实验室混样) or ``swab`` (混采)."""

COLLECTIONS: Final[tuple[str, ...]] = get_args(Collection)


# Smallest prevalence planned for (share): below one in a billion Dorfman's optimum runs past any real
# pool and its search past any memory; the API refuses the same bound.
MIN_PREVALENCE: Final[float] = 1e-9
# Pool sizes always shown beside the optimum, people per tube (single tubes, and the 5-in-1 and 10-in-1
# of cn-rt-1/2, reference protocols.md rt.pool; 20-in-1 for comparison, no national source: rt.pool.20).
DEFAULT_POOL_SIZES: Final[tuple[int, ...]] = (1, 5, 10, 20)

# Ct rise per two-fold dilution, cycles (PCR efficiency of ~100%: the template doubles each cycle;
# Yelin et al., Clin Infect Dis 2020;71(16):2073-2078).
CT_SHIFT_PER_DOUBLING: Final[float] = 1.0

# Largest Ct rise of a swab pool over the single samples, cycles (mean Cq differences of 0.1 to 2.09
# between swab pools and their single samples; the upper figure, to stay on the safe side; Christoff et
# al., PLoS ONE 2021;16(2):e0246544).
SWAB_POOL_CT_SHIFT: Final[float] = 2.09

# Ct cut-off of the assay, cycles: a tube reading above it is negative. China CDC's laboratory testing
# guide (attachment to the national control protocol) reports "no Ct, or Ct 40" as negative, and kits
# read Ct < 40 as detected. The "Ct < 35" of the twenty measures (cn-9-20, reference protocols.md, S24)
# judges whether a person counts as infected; a pool is recalled on any amplification the assay reads,
# so 40 applies to pools. Pass 35 to plan for that criterion.
DEFAULT_CT_CUTOFF: Final[float] = 40.0

# Ct of positives at their first test, cycles: median 27.2, interquartile range 22.2 to 32.4 (1,109 first
# positive tests, laboratory-wide, March-June 2020; Emerg Infect Dis 2021;27(1):92-103, Table 2,
# doi:10.3201/eid2701.203379). Read as a normal distribution: mean = median, sd = IQR / 1.349.
DEFAULT_CT_MEAN: Final[float] = 27.2
DEFAULT_CT_SD: Final[float] = (32.4 - 22.2) / 1.349

# People to test, persons (5 million: the city size at which cn-rt-2 allows 3 days instead of 2 for a
# whole round; reference protocols.md rt.deadline, S16).
DEFAULT_POPULATION: Final[int] = 5_000_000

# Laboratory capacity, tests (tubes) per hour: 10,000 a day, the daily capacity BGI announced for its
# Huo-Yan (火眼) laboratory in Wuhan in February 2020, over 24 hours (rounded). Give the capacity of the
# labs serving the round.
DEFAULT_LAB_TESTS_PER_HOUR: Final[float] = 417.0

# Where each default comes from, for the command's JSON and the documentation.
SOURCES: Final[dict[str, str]] = {
    "expected_tests": "Dorfman R. Ann Math Stat 1943;14(4):436-440 (fangkong.analytics.pooling)",
    "ct_shift_lab": "log2(k): Yelin et al., Clin Infect Dis 2020;71(16):2073-2078",
    "ct_shift_swab": "min(log2(k), 2.09): Christoff et al., PLoS ONE 2021;16(2):e0246544",
    "ct_cutoff": "Ct 40: China CDC laboratory testing guide (no Ct or Ct 40 is negative)",
    "positive_ct": "median 27.2, IQR 22.2-32.4: Emerg Infect Dis 2021;27(1):92-103, Table 2",
    "population": "5,000,000: cn-rt-2 city-size boundary (reference protocols.md rt.deadline)",
    "lab_tests_per_hour": "417: 10,000 a day (BGI Huo-Yan laboratory, Wuhan, 2020) over 24 h",
}


@dataclass(frozen=True)
class NormalCt:
    """Ct values of positives as a normal distribution (mean and standard deviation, cycles)."""

    mean: float = DEFAULT_CT_MEAN
    sd: float = DEFAULT_CT_SD

    def missed_share(self, shift: float, cutoff: float) -> float:
        """Share of positives (Ct <= cutoff) whose Ct, raised by ``shift``, passes the cut-off."""
        ct = NormalDist(self.mean, self.sd)
        detectable = ct.cdf(cutoff)
        if detectable <= 0.0:
            raise PoolingInputError(f"positive_ct: no positive reads below the cut-off Ct {cutoff:g}")
        return (detectable - ct.cdf(cutoff - shift)) / detectable

    def describe(self) -> str:
        return f"normal, mean {self.mean:g}, sd {self.sd:.2f}"


@dataclass(frozen=True)
class ObservedCt:
    """Ct values of positives as a list observed in one's own labs (cycles, one per positive)."""

    values: tuple[float, ...]

    def missed_share(self, shift: float, cutoff: float) -> float:
        ct = np.asarray(self.values, dtype=np.float64)
        detectable = ct[ct <= cutoff]
        if detectable.size == 0:
            raise PoolingInputError(
                f"positive_ct: no listed Ct value lies at or below the cut-off {cutoff:g}"
            )
        return float(np.mean(detectable + shift > cutoff))

    def describe(self) -> str:
        return f"{len(self.values)} observed values"


CtDistribution = NormalCt | ObservedCt

DEFAULT_POSITIVE_CT: Final[NormalCt] = NormalCt()


@dataclass(frozen=True)
class PoolOption:
    """One pool size for the round: what it costs and what it misses.

    ``tests`` and ``missed_positives`` are expectations for the whole population (not rounded);
    ``miss_probability`` is the chance that a positive is missed because its pool reads negative.
    """

    pool_size: int
    tests_per_person: float
    tests: float
    lab_hours: float
    ct_shift: float
    miss_probability: float
    missed_positives: float
    is_optimal: bool

    @property
    def pays(self) -> bool:
        """Fewer tests than one per person: pooling saves tests at this size."""
        return self.tests_per_person < 1.0


@dataclass(frozen=True)
class PoolPlan:
    """The planner's answer: Dorfman's optimal pool size and each candidate size side by side."""

    prevalence: float
    population: int
    lab_tests_per_hour: float
    collection: Collection
    ct_cutoff: float
    positive_ct: CtDistribution
    optimal_pool_size: int
    tests_per_person: float
    options: tuple[PoolOption, ...]

    @property
    def pooling_pays(self) -> bool:
        """False when single tubes are cheapest (prevalence above about 31%, Dorfman's break-even)."""
        return self.optimal_pool_size > 1

    @property
    def expected_positives(self) -> float:
        return self.prevalence * self.population

    def option(self, pool_size: int) -> PoolOption:
        for candidate in self.options:
            if candidate.pool_size == pool_size:
                return candidate
        raise KeyError(pool_size)


def parse_collection(text: str) -> Collection:
    """``lab`` or ``swab`` as typed by a user (any case)."""
    value = text.strip().lower()
    if value == "lab":
        return "lab"
    if value == "swab":
        return "swab"
    raise PoolingInputError(f"collection must be one of {', '.join(COLLECTIONS)}, got {text!r}")


def ct_shift(pool_size: int, collection: Collection = "lab") -> float:
    """Rise in a positive sample's Ct in a pool of ``pool_size``, cycles (0 for a single tube)."""
    if pool_size < 1:
        raise PoolingInputError(f"pool_size must be a whole number >= 1, got {pool_size}")
    dilution = CT_SHIFT_PER_DOUBLING * math.log2(pool_size)
    if collection == "swab":
        return min(dilution, SWAB_POOL_CT_SHIFT)
    return dilution


def plan_pools(
    prevalence: float,
    *,
    population: int = DEFAULT_POPULATION,
    lab_tests_per_hour: float = DEFAULT_LAB_TESTS_PER_HOUR,
    collection: Collection = "lab",
    ct_cutoff: float = DEFAULT_CT_CUTOFF,
    positive_ct: CtDistribution = DEFAULT_POSITIVE_CT,
    pool_sizes: Sequence[int] = DEFAULT_POOL_SIZES,
) -> PoolPlan:
    """Plan a round at ``prevalence`` (a probability in (0, 1)): the optimum and every size of ``pool_sizes``.

    Raises ``PoolingInputError`` naming the parameter that is out of range.
    """
    _check(prevalence, population, lab_tests_per_hour, collection, ct_cutoff, positive_ct, pool_sizes)
    best = optimal_pool_size(prevalence)
    sizes = np.array(sorted({*pool_sizes, best}), dtype=np.int64)
    per_person = expected_tests_per_person(prevalence, sizes)
    options = []
    for size, tests_each in zip(sizes.tolist(), per_person.tolist(), strict=True):
        shift = ct_shift(size, collection)
        missed = positive_ct.missed_share(shift, ct_cutoff) if size > 1 else 0.0
        tests = tests_each * population
        options.append(
            PoolOption(
                pool_size=size,
                tests_per_person=tests_each,
                tests=tests,
                lab_hours=tests / lab_tests_per_hour,
                ct_shift=shift,
                miss_probability=missed,
                missed_positives=missed * prevalence * population,
                is_optimal=size == best,
            )
        )
    return PoolPlan(
        prevalence=prevalence,
        population=population,
        lab_tests_per_hour=lab_tests_per_hour,
        collection=collection,
        ct_cutoff=ct_cutoff,
        positive_ct=positive_ct,
        optimal_pool_size=best,
        tests_per_person=float(per_person[int(np.flatnonzero(sizes == best)[0])]),
        options=tuple(options),
    )


def _check(
    prevalence: float,
    population: int,
    lab_tests_per_hour: float,
    collection: str,
    ct_cutoff: float,
    positive_ct: CtDistribution,
    pool_sizes: Sequence[int],
) -> None:
    # Dorfman's optimum is undefined at 0 (every size ties) and pooling is pointless at 1.
    if not (math.isfinite(prevalence) and 0.0 < prevalence < 1.0):
        raise PoolingInputError(f"prevalence must lie strictly between 0 and 1, got {prevalence:g}")
    if prevalence < MIN_PREVALENCE:
        raise PoolingInputError(
            f"prevalence {prevalence:g} is below {MIN_PREVALENCE:g}: at one positive in a billion the "
            "optimal pool is larger than any lab can mix"
        )
    if population < 1:
        raise PoolingInputError(f"population must be at least 1 person, got {population}")
    if not (math.isfinite(lab_tests_per_hour) and lab_tests_per_hour > 0):
        raise PoolingInputError(
            f"lab capacity must be more than 0 tests per hour, got {lab_tests_per_hour:g}"
        )
    if collection not in COLLECTIONS:
        raise PoolingInputError(f"collection must be one of {', '.join(COLLECTIONS)}, got {collection!r}")
    if not (math.isfinite(ct_cutoff) and ct_cutoff > 0):
        raise PoolingInputError(f"Ct cut-off must be a positive number of cycles, got {ct_cutoff:g}")
    if any(size < 1 for size in pool_sizes):
        raise PoolingInputError("pool sizes must be whole numbers >= 1")
    if isinstance(positive_ct, NormalCt):
        if not (math.isfinite(positive_ct.mean) and math.isfinite(positive_ct.sd) and positive_ct.sd > 0):
            raise PoolingInputError("positive_ct: the Ct distribution needs a finite mean and an sd above 0")
    elif not positive_ct.values or not all(math.isfinite(v) and v > 0 for v in positive_ct.values):
        raise PoolingInputError("positive_ct: give at least one Ct value, each a positive number of cycles")
