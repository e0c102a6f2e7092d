"""JSON routes of the command dashboard and of timeliness accountability: thin (parse, call
``response.service.dashboard`` / ``.accountability``, shape). Both need ``response.read``; the
jurisdiction is given by its code and must lie in the caller's scope (else 404). Plain ``def`` routes:
they touch the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.permissions import Permission
from fangkong.response.schemas_dashboard import AccountabilityPublic, DashboardPublic
from fangkong.response.service.accountability import DEFAULT_WEEKS, accountability
from fangkong.response.service.dashboard import dashboard

router = APIRouter(prefix="/api/response", tags=["response"])

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
CodeQuery = Annotated[str | None, Query(min_length=2, max_length=12, pattern=r"^[0-9]+$")]


@router.get("/dashboard", response_model=DashboardPublic)
def get_dashboard(
    principal: Reader, session: SessionDep, jurisdiction: CodeQuery = None, on: dt.date | None = None
) -> DashboardPublic:
    """One jurisdiction's picture (default: the caller's) on a local day (default: today)."""
    return DashboardPublic.model_validate(dashboard(session, principal, code=jurisdiction, on=on))


@router.get("/accountability", response_model=AccountabilityPublic)
def get_accountability(
    principal: Reader,
    session: SessionDep,
    jurisdiction: CodeQuery = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = DEFAULT_WEEKS,
    on: dt.date | None = None,
) -> AccountabilityPublic:
    """Deadlines met and missed per child area and team, week by week, and the slowest steps."""
    return AccountabilityPublic.model_validate(
        accountability(session, principal, code=jurisdiction, weeks=weeks, on=on)
    )
