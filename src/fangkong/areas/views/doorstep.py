"""Doorstep services (sealed areas): the board by area, requests opened, taken and done, and the
emergency departments open now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas import service
from fangkong.areas.models import RequestKind
from fangkong.areas.views.common import Doorstep
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/areas/doorstep", response_class=HTMLResponse)
def doorstep_page(request: Request, principal: Doorstep, session: SessionDep) -> Response:
    """Per area: requests open, late, done; the open requests (emergencies first, red when late); the
    emergency departments open now."""
    board = service.doorstep.board(session, principal)
    return render(
        request,
        "areas/doorstep.html",
        {
            "board": board,
            "requests": service.doorstep.list_requests(session, principal, open_only=True),
            "departments": service.doorstep.emergency_departments(session, principal),
            "kinds": [k.value for k in RequestKind],
            "areas": [(r.area_id, r.area_name) for r in board if r.area_id is not None],
            "places": _places_in_scope(session, principal),
        },
        principal=principal,
    )


def _places_in_scope(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """Counties, townships and communities in scope, where an emergency department may be."""
    from fangkong.core.scope import under

    levels = [Level.county, Level.township, Level.community]
    return [
        (j.id, j.name)
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(levels))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
    ]


@router.post("/areas/doorstep/requests")
def open_request(
    request: Request,
    principal: Doorstep,
    session: SessionDep,
    bus: BusDep,
    kind: Annotated[str, Form(max_length=30)] = "",
    area_id: Annotated[str, Form(max_length=12)] = "",
    detail: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    area = area_id.strip()
    if area and not (area.isdigit() and 1 <= int(area) <= 2**31 - 1):
        raise InvalidInput([RowError(1, "area_id", Message("not a risk area"))])
    service.doorstep.open_request(
        session,
        bus,
        principal,
        kind=kind,
        detail=detail,
        area_id=int(area) if area else None,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/requests/{request_id}/take")
def take_request(request: Request, request_id: RowId, principal: Doorstep, session: SessionDep) -> Response:
    service.doorstep.take(session, principal, request_id, ip=client_ip(request))
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/requests/{request_id}/done")
def complete_request(
    request: Request,
    request_id: RowId,
    principal: Doorstep,
    session: SessionDep,
    outcome: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    service.doorstep.complete(session, principal, request_id, outcome=outcome, ip=client_ip(request))
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/departments")
def set_department(
    request: Request,
    principal: Doorstep,
    session: SessionDep,
    jurisdiction_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    name: Annotated[str, Form(max_length=120)] = "",
    open: Annotated[bool, Form()] = False,
    phone: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    service.doorstep.set_emergency_department(
        session,
        principal,
        jurisdiction_id=jurisdiction_id,
        name=name,
        open=open,
        phone=phone,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas/doorstep", status_code=303)
