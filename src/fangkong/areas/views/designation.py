"""Risk areas, staff pages: the area list with its tile view, the proposals the command centre approves
(level, unit and name adjustable) or rejects, and the lifting calendar with each change due and what
blocks it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.areas import service
from fangkong.areas.models import AreaState, RiskLevel, UnitKind
from fangkong.areas.views.common import LEVEL_COLOURS, Approver, PageNo, Proposer, Reader, _can
from fangkong.core import clock
from fangkong.core.deps import BusDep, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)

_Choice = TypeVar("_Choice", RiskLevel, UnitKind)

AREAS_PAGE = 50
# Days the lifting calendar looks ahead (past the longest clock of any protocol: 7 + 7 + 3 days).
CALENDAR_DAYS = 21
# Tiles drawn on the area list (a county's tiles beyond this are counted, not drawn).
MAX_TILES = 3_000


@router.get("/areas", response_class=HTMLResponse)
def areas_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    state: Annotated[str, Query(max_length=20)] = AreaState.in_force.value,
    level: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=120)] = "",
    page: PageNo = 1,
) -> Response:
    """The areas in force as tiles by county (the rest of each such county is low), and the list
    (``state`` empty: every state)."""
    errors: list[RowError] = []
    chosen_state = _state_choice(state, errors)
    chosen_level = _choice(RiskLevel, level, "level", errors)
    if errors:
        raise InvalidInput(errors)
    state, level = (chosen_state.value if chosen_state else ""), (chosen_level.value if chosen_level else "")
    filters = service.designation.AreaFilter(state=chosen_state, level=chosen_level, q=q)
    found = service.designation.list_areas(session, principal, filters, page=page, size=AREAS_PAGE)
    counties = service.designation.county_levels(session, principal)
    names = {c.county_id: c.name for c in counties}
    tiles: dict[int, list[Any]] = {}
    for area in service.designation.areas_in_force(session, principal.jpath)[:MAX_TILES]:
        tiles.setdefault(area.county_id, []).append(area)
    proposed = service.designation.list_areas(
        session, principal, service.designation.AreaFilter(state=AreaState.proposed), size=1
    ).total
    return render(
        request,
        "areas/list.html",
        {
            "found": found,
            "counties": counties,
            "tiles": [(names.get(cid, ""), areas) for cid, areas in tiles.items()],
            "colours": LEVEL_COLOURS,
            "state": state,
            "level": level,
            "q": q,
            "states": [s.value for s in AreaState],
            "proposed": proposed,
            **_can(principal),
        },
        principal=principal,
    )


@router.get("/areas/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    """Proposals waiting for the command centre, each with its reason and the adjustments allowed."""
    found = service.designation.list_areas(
        session,
        principal,
        service.designation.AreaFilter(state=AreaState.proposed),
        size=service.designation.MAX_PAGE_SIZE,
    )
    return render(
        request,
        "areas/proposals.html",
        {
            "found": found,
            "notice": service.designation.proposal_notice(session, principal),
            "levels": [RiskLevel.high.value, RiskLevel.medium.value],
            "units": [u.value for u in UnitKind],
            "created": request.query_params.get("created", ""),
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/areas/proposals/run")
def run_proposals(principal: Proposer, session: SessionDep) -> Response:
    created = service.designation.propose_from_cases(session, principal)
    return RedirectResponse(f"/areas/proposals?created={len(created)}", status_code=303)


@router.post("/areas/{area_id}/approve")
def approve(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    level: Annotated[str, Form(max_length=20)] = "",
    unit_kind: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Designate a proposal (its level, unit or name adjusted), then back to the list of areas in force."""
    errors: list[RowError] = []
    chosen_level = _choice(RiskLevel, level, "level", errors)
    chosen_unit = _choice(UnitKind, unit_kind, "unit_kind", errors)
    if errors:
        raise InvalidInput(errors)
    service.designation.approve(
        session,
        bus,
        principal,
        area_id,
        level=chosen_level,
        unit_kind=chosen_unit,
        name=name if name.strip() else None,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas?state=in_force", status_code=303)


def _choice(kind: type[_Choice], value: str, field: str, errors: list[RowError]) -> _Choice | None:
    if not value.strip():
        return None
    try:
        return kind(value.strip())
    except ValueError:
        errors.append(RowError(1, field, Message("“{value}” is not one of the choices", value=value[:20])))
        return None


def _state_choice(value: str, errors: list[RowError]) -> AreaState | None:
    if not value.strip():
        return None
    try:
        return AreaState(value.strip())
    except ValueError:
        errors.append(RowError(1, "state", Message("“{value}” is not one of the choices", value=value[:20])))
        return None


@router.post("/areas/{area_id}/reject")
def reject(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    service.designation.reject(session, principal, area_id, reason=reason, ip=client_ip(request))
    return RedirectResponse("/areas/proposals", status_code=303)


@router.get("/areas/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    """The changes due today (with what blocks each) and the days ahead if nothing new happens."""
    today = clock.today()
    return render(
        request,
        "areas/calendar.html",
        {
            "today": today,
            "due": service.designation.due_changes(session, principal, today),
            "calendar": service.designation.lifting_calendar(
                session, principal, start=today, end=today + dt.timedelta(days=CALENDAR_DAYS)
            ),
            "days": CALENDAR_DAYS,
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/areas/{area_id}/apply")
def apply_change(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    to_level: Annotated[RiskLevel, Form()],
) -> Response:
    service.designation.apply_change(session, bus, principal, area_id, to_level, ip=client_ip(request))
    return RedirectResponse("/areas/calendar", status_code=303)
