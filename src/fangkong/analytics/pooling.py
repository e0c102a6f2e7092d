"""Dorfman two-stage pooled testing: expected tests per person, optimal pool size, and a round.

Dorfman R. *The detection of defective members of large populations.* Annals of Mathematical
Statistics 1943; 14(4): 436-440. Samples of ``k`` people go into one tube; a negative tube clears all
of them, and everyone in a positive tube is recalled for an individual test. At prevalence ``p`` and
with a test of sensitivity ``Se`` and specificity ``Sp`` (applied to the pooled tube as to a single
sample, the usual simplification, e.g. Kim et al., Biometrics 2007), the expected number of tests per
person is

    E(k) = 1/k + Se (1 - (1-p)^k) + (1 - Sp) (1-p)^k        for k >= 2,
    E(1) = 1                                                 (individual testing).

With a perfect test this is Dorfman's ``1/k + 1 - (1-p)^k``. Pooling pays while ``E(k) < 1``, that
is at prevalence below about 31% (``1 - 3^{-1/3}``).

A *round* of a campaign puts people into tubes in the order they were sampled (neighbours in a queue
share a tube, as in "10-in-1" mixed sampling) and, once the lab reports each tube, recalls the people
of positive tubes. A tube holding a single person is already an individual test: that person is
reported positive, not recalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Test sensitivity, probability (a perfect test, Dorfman 1943; pass the assay's own figure).
DEFAULT_SENSITIVITY: Final[float] = 1.0
# Test specificity, probability (a perfect test, Dorfman 1943).
DEFAULT_SPECIFICITY: Final[float] = 1.0


class PoolingInputError(ValueError):
    """A prevalence, pool size, accuracy or tube result is unusable; the message names it."""


def expected_tests_per_person(
    prevalence: npt.ArrayLike,
    pool_size: npt.ArrayLike,
    *,
    sensitivity: float = DEFAULT_SENSITIVITY,
    specificity: float = DEFAULT_SPECIFICITY,
) -> FloatArray:
    """Expected tests per person under Dorfman pooling; broadcasts ``prevalence`` against ``pool_size``."""
    p = _probability("prevalence", prevalence)
    _probability("sensitivity", sensitivity)
    _probability("specificity", specificity)
    k = np.asarray(pool_size)
    if not np.issubdtype(k.dtype, np.integer) or np.any(k < 1):
        raise PoolingInputError("pool_size must be whole numbers >= 1")
    kf = k.astype(np.float64)
    all_negative = (1.0 - p) ** kf
    pooled = 1.0 / kf + sensitivity * (1.0 - all_negative) + (1.0 - specificity) * all_negative
    return np.asarray(np.where(k == 1, 1.0, pooled), dtype=np.float64)


def optimal_pool_size(
    prevalence: float,
    *,
    sensitivity: float = DEFAULT_SENSITIVITY,
    specificity: float = DEFAULT_SPECIFICITY,
    max_pool_size: int | None = None,
) -> int:
    """Pool size ``k >= 1`` with the fewest expected tests per person (the smaller ``k`` on a tie).

    ``max_pool_size`` caps the search at what the assay allows (dilution limits pools in practice).
    Without a cap the search runs to ``2/sqrt(p) + 10``, beyond Dorfman's optimum ``~1/sqrt(p)``.
    """
    p = float(_probability("prevalence", prevalence))
    if max_pool_size is None:
        if p == 0:
            raise PoolingInputError("at prevalence 0 every pool size is optimal; give max_pool_size")
        limit = int(np.ceil(2.0 / np.sqrt(p))) + 10
    else:
        if max_pool_size < 1:
            raise PoolingInputError(f"max_pool_size must be >= 1, got {max_pool_size}")
        limit = max_pool_size
    sizes = np.arange(1, limit + 1, dtype=np.int64)
    expected = expected_tests_per_person(p, sizes, sensitivity=sensitivity, specificity=specificity)
    return int(sizes[int(np.argmin(expected))])


@dataclass(frozen=True)
class RoundPlan:
    """Which tube each person's sample goes into: ``tube_of_person[i]`` in ``0..n_tubes-1``."""

    tube_of_person: IntArray
    n_tubes: int
    pool_size: int

    def people_in_tube(self, tube: int) -> IntArray:
        return np.flatnonzero(self.tube_of_person == tube).astype(np.int64)


@dataclass(frozen=True)
class RoundOutcome:
    """What a round's tube results mean for the people in it.

    ``recall`` lists the people to test individually (in positive tubes of two or more), ``positive``
    the people alone in a positive tube; everyone else is cleared. ``tests`` counts the tubes of the
    first stage plus the individual tests of the recall.
    """

    recall: IntArray
    positive: IntArray
    cleared: IntArray
    tests: int


def plan_round(n_people: int, pool_size: int) -> RoundPlan:
    """Put ``n_people`` samples, in sampling order, into tubes of ``pool_size`` (the last may be smaller)."""
    if n_people < 0:
        raise PoolingInputError(f"n_people must be >= 0, got {n_people}")
    if pool_size < 1:
        raise PoolingInputError(f"pool_size must be >= 1, got {pool_size}")
    tube_of_person = np.arange(n_people, dtype=np.int64) // pool_size
    return RoundPlan(tube_of_person=tube_of_person, n_tubes=-(-n_people // pool_size), pool_size=pool_size)


def resolve_round(plan: RoundPlan, tube_positive: npt.ArrayLike) -> RoundOutcome:
    """Apply the lab's result for each tube (``True`` = positive) to the people of the round."""
    results = np.asarray(tube_positive)
    if results.shape != (plan.n_tubes,):
        raise PoolingInputError(f"expected {plan.n_tubes} tube results, got shape {results.shape}")
    if results.dtype != np.bool_:
        raise PoolingInputError("tube results must be booleans (True = positive)")
    people_per_tube = np.bincount(plan.tube_of_person, minlength=plan.n_tubes)
    in_positive_tube = results[plan.tube_of_person]
    alone = people_per_tube[plan.tube_of_person] == 1
    recall = np.flatnonzero(in_positive_tube & ~alone).astype(np.int64)
    return RoundOutcome(
        recall=recall,
        positive=np.flatnonzero(in_positive_tube & alone).astype(np.int64),
        cleared=np.flatnonzero(~in_positive_tube).astype(np.int64),
        tests=plan.n_tubes + int(recall.size),
    )


def _probability(name: str, value: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise PoolingInputError(f"{name} must be a probability in [0, 1]")
    return arr
