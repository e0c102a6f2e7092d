"""Web pages of the protocol capability: the protocol in force beside another, and the switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core import jurisdictions
from fangkong.core.audit import Actor
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep, client_ip
from fangkong.core.errors import DomainError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.protocol import service
from fangkong.protocol.diff import diff_protocols
from fangkong.web.templating import focus_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [(Permission.protocol_read, "/protocols", "Protocols")]
Reader = Annotated[Principal, Depends(Require(Permission.protocol_read))]
Manager = Annotated[Principal, Depends(Require(Permission.protocol_manage))]


def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    compare: str | None,
    report: service.SwitchReport | None = None,
    error: str | Message = "",
    status_code: int = 200,
    preview: service.SwitchReport | None = None,
) -> Response:
    place = jurisdictions.get_in_scope(session, focus_of(request, principal), principal.jpath)
    current = service.protocol_in_force(session, place.path)
    available = service.available_protocols(session)
    other_id = compare if compare in {p.id for p in available} else (current.supersedes or "cn-9-20")
    if other_id not in {p.id for p in available}:
        other_id = current.id
    other = service.get_protocol(session, other_id)
    rows = diff_protocols(current, other)
    return render(
        request,
        "protocol/protocols.html",
        {
            "place": place,
            "current": current,
            "other": other,
            "rows": rows,
            "available": available,
            "report": report,
            "preview": preview,
            "error": error,
        },
        principal=principal,
        status_code=status_code,
    )


@router.get("/protocols", response_class=HTMLResponse)
def protocols_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    compare: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _page(request, principal, session, compare)


@router.post("/protocols/switch", response_class=HTMLResponse)
def switch_page(
    request: Request,
    principal: Manager,
    session: SessionDep,
    protocol_id: Annotated[str, Form(max_length=64)],
    confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Without ``confirmed``, what the switch would change (nothing is written); with it, the switch."""
    place = jurisdictions.get_in_scope(session, focus_of(request, principal), principal.jpath)
    try:
        if confirmed != "yes":
            preview = service.preview_switch(session, place, protocol_id)
            return _page(request, principal, session, protocol_id, preview=preview)
        if service.protocol_id_in_force(session, place.path) == protocol_id:
            preview = service.preview_switch(session, place, protocol_id)
            return _page(request, principal, session, protocol_id, preview=preview)
        report = service.switch_protocol(
            session, Actor(principal.user_id, principal.username, client_ip(request)), place, protocol_id
        )
    except DomainError as exc:
        session.rollback()
        return _page(request, principal, session, None, error=exc.text, status_code=exc.status)
    return _page(request, principal, session, report.old_protocol, report=report)
