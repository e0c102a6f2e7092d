"""What the api modules share: the router, the permissions each route asks for, limits and small helpers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.testing import service
from fangkong.testing.schemas import MAX_ID

router = APIRouter(prefix="/api/testing", tags=["testing"])

Reader = Annotated[Principal, Depends(Require(Permission.testing_read))]
Manager = Annotated[Principal, Depends(Require(Permission.testing_manage))]
Sampler = Annotated[Principal, Depends(Require(Permission.testing_sample))]
Lab = Annotated[Principal, Depends(Require(Permission.lab_results))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=service.orders.MAX_PAGE_SIZE)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Lang = Literal["zh", "en"]

# A lab's results file for a city's round is a million rows of about 60 bytes; a FHIR bundle is bulkier.
MAX_RESULTS_BYTES = 256 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FHIR_JSON = "application/fhir+json"
# Smallest prevalence the planner is asked about: one in a billion, below any population it plans for. The
# optimum's search runs to about 2/sqrt(p) pool sizes, so a prevalence of 1e-15 would hold a worker for
# seconds and gigabytes of memory (and 5e-324 fails outright).
MIN_PREVALENCE = 1e-9
# Instants a request may name: none before this year, none further ahead than this (a typo, not a plan).
EARLIEST_YEAR = 2000
LATEST_AHEAD = dt.timedelta(days=366)
# A device clock running a little fast is not a refusal; a scan from next week is.
SCAN_CLOCK_SKEW = dt.timedelta(hours=1)


def _out_of_range(field: str, value: dt.datetime) -> RowError:
    return RowError(1, field, Message("{value} is out of range", value=value.isoformat()))


def instant(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A request time as an aware UTC instant: naive times are local wall-clock times."""
    if value is None:
        return None
    try:
        moment = clock.from_local(value)
    except (OverflowError, ValueError):
        raise InvalidInput([_out_of_range(field, value)]) from None
    if moment.year < EARLIEST_YEAR or moment > clock.utcnow() + LATEST_AHEAD:
        raise InvalidInput([_out_of_range(field, value)])
    return moment


def _actor(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))
