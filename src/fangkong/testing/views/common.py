"""What the views modules share: the router, the permissions each route asks for, limits and small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.permissions import Permission
from fangkong.core.scope import under

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation: at most two for any
# one role, so that the widest role's top bar stays one line. Rounds, coverage, sites, recalls, the
# planner and a person's history are linked from these pages.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.testing_read, "/testing", "Mass testing"),
    (Permission.testing_sample, "/testing/worklist", "Worklists"),
    (Permission.lab_results, "/testing/lab", "Lab results"),
]

Reader = Annotated[Principal, Depends(Require(Permission.testing_read))]
Manager = Annotated[Principal, Depends(Require(Permission.testing_manage))]
Sampler = Annotated[Principal, Depends(Require(Permission.testing_sample))]
Lab = Annotated[Principal, Depends(Require(Permission.lab_results))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

WORKLIST_PAGE = 100
# A lab's file of one round can be a million rows (about 60 MB of CSV).
MAX_RESULTS_FILE_BYTES = 200 * 1024 * 1024
# Seconds between two refreshes of an open round's dashboard.
REFRESH_SECONDS = 5
# Coverage colours: sampled share of the expected people at or above which a community is on track.
COVERAGE_GOOD = 0.95
COVERAGE_FAIR = 0.6
# Minutes per point of the progress chart.
PROGRESS_STEP_MINUTES = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _can(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.can(Permission.testing_manage),
        "can_sample": principal.can(Permission.testing_sample),
        "can_upload": principal.can(Permission.lab_results),
    }


def _places(session: Session, principal: Principal, levels: Sequence[Level]) -> list[Jurisdiction]:
    """Jurisdictions of these levels in scope (drill sandboxes left out)."""
    return [
        j
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(list(levels)))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
        if not j.is_sandbox
    ]


def coverage_class(share: float, expected: int) -> str:
    """The colour of a community's coverage: on track, behind, far behind (nobody expected: none)."""
    if not expected:
        return "cov-none"
    if share >= COVERAGE_GOOD:
        return "cov-good"
    return "cov-fair" if share >= COVERAGE_FAIR else "cov-poor"


def _hours_left(moment: dt.datetime, now: dt.datetime) -> float:
    return (clock.as_utc(moment) - clock.as_utc(now)).total_seconds() / 3600
