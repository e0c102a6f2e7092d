"""The pool-size planner."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from fangkong.analytics.pooling import PoolingInputError
from fangkong.core.errors import InvalidInput, RowError
from fangkong.testing.api.common import MIN_PREVALENCE, Reader, router
from fangkong.testing.rules import pool_planner as planner
from fangkong.testing.schemas import PoolOptionPublic, PoolPlanPublic


@router.get("/pools", response_model=PoolPlanPublic)
def pools(
    principal: Reader,
    prevalence: Annotated[float, Query(ge=MIN_PREVALENCE, lt=1)],
    population: Annotated[int, Query(ge=1, le=2_000_000_000)] = planner.DEFAULT_POPULATION,
    lab_capacity: Annotated[float, Query(gt=0, le=1e9)] = planner.DEFAULT_LAB_TESTS_PER_HOUR,
    collection: Literal["lab", "swab"] = "lab",
    ct_cutoff: Annotated[float, Query(gt=0, le=60)] = planner.DEFAULT_CT_CUTOFF,
) -> PoolPlanPublic:
    """Dorfman's optimal pool size at a prevalence, with tests, lab hours and missed positives per size."""
    try:
        plan = planner.plan_pools(
            prevalence,
            population=population,
            lab_tests_per_hour=lab_capacity,
            collection=collection,
            ct_cutoff=ct_cutoff,
        )
    except PoolingInputError as exc:
        raise InvalidInput([RowError(1, "prevalence", str(exc))]) from None
    return PoolPlanPublic(
        prevalence=plan.prevalence,
        optimal_pool_size=plan.optimal_pool_size,
        tests_per_person=plan.tests_per_person,
        pooling_pays=plan.pooling_pays,
        population=plan.population,
        expected_positives=plan.expected_positives,
        lab_tests_per_hour=plan.lab_tests_per_hour,
        collection=plan.collection,
        ct_cutoff=plan.ct_cutoff,
        positive_ct=plan.positive_ct.describe(),
        pool_sizes=[
            PoolOptionPublic(
                pool_size=o.pool_size,
                optimal=o.is_optimal,
                tests_per_person=o.tests_per_person,
                tests=o.tests,
                lab_hours=o.lab_hours,
                ct_shift=o.ct_shift,
                miss_probability=o.miss_probability,
                missed_positives=o.missed_positives,
            )
            for o in plan.options
        ],
        sources=dict(planner.SOURCES),
    )
