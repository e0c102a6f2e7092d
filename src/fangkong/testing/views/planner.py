"""The pool-size planner's page."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.analytics.pooling import PoolingInputError
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.testing.rules import pool_planner as planner
from fangkong.testing.views.common import Reader, router
from fangkong.web.forms import whole_number
from fangkong.web.templating import render


def _float(text: str, field: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))]) from None
    if not math.isfinite(value):
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))])
    return value


@router.get("/testing/planner", response_class=HTMLResponse)
def planner_page(
    request: Request,
    principal: Reader,
    prevalence: Annotated[str, Query(max_length=20)] = "",
    population: Annotated[str, Query(max_length=12)] = str(planner.DEFAULT_POPULATION),
    lab_capacity: Annotated[str, Query(max_length=12)] = str(int(planner.DEFAULT_LAB_TESTS_PER_HOUR)),
    collection: Annotated[str, Query(max_length=8)] = "lab",
) -> Response:
    """Prevalence in (per cent), the pool sizes side by side out: tests, lab hours, missed positives."""
    errors: list[RowError] = []
    plan = None
    if prevalence.strip():
        try:
            share = _float(prevalence, "prevalence") / 100
            if not 0 < share < 1:
                raise InvalidInput(
                    [RowError(1, "prevalence", Message("must lie between 0 and 100 per cent, both excluded"))]
                )
            people = whole_number(population, "population", low=1, high=2_000_000_000)
            capacity = _float(lab_capacity, "lab_capacity")
            if capacity <= 0:
                raise InvalidInput(
                    [RowError(1, "lab_capacity", Message("must be more than {limit}", limit=0))]
                )
            plan = planner.plan_pools(
                share,
                population=people,
                lab_tests_per_hour=capacity,
                collection="swab" if collection == "swab" else "lab",
            )
        except InvalidInput as exc:
            errors = exc.errors
        except PoolingInputError:
            errors = [RowError(1, "prevalence", Message("is not valid"))]
    return render(
        request,
        "testing/planner.html",
        {
            "plan": plan,
            "errors": errors,
            "form": {
                "prevalence": prevalence,
                "population": population,
                "lab_capacity": lab_capacity,
                "collection": "swab" if collection == "swab" else "lab",
            },
            "sources": planner.SOURCES,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )
