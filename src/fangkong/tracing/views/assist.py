"""Assist-request pages: the requests sent to this jurisdiction and acting on them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, SessionDep, VaultDep, client_ip
from fangkong.tracing import assist
from fangkong.tracing.models import (
    AssistStatus,
)
from fangkong.tracing.views.common import (
    PAGE_SIZE,
    Assistant,
    ItemId,
    PageNo,
    id_or_none,
    picker_communities,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/tracing/assist", response_class=HTMLResponse)
def assist_page(
    request: Request,
    principal: Assistant,
    session: SessionDep,
    box: Literal["received", "sent"] = "received",
    status: AssistStatus | None = None,
    page: PageNo = 1,
) -> Response:
    result = assist.list_requests(session, principal, box, status=status, page=page, size=PAGE_SIZE)
    return render(
        request,
        "tracing/assist_list.html",
        {"result": result, "box": box, "status": status},
        principal=principal,
    )


# The steps a receiver takes on a request, named in the page's confirmation after each.
AssistAction = Literal["acknowledge", "decline", "locate", "apply_plan", "report"]


@router.get("/tracing/assist/{request_id}", response_class=HTMLResponse)
def assist_detail(
    request: Request,
    request_id: int,
    principal: Assistant,
    session: SessionDep,
    done: AssistAction | None = None,
) -> Response:
    """A request; ``done`` names the step just taken, which the page confirms with what it did."""
    view = assist.get(session, principal, request_id)
    return render(
        request, "tracing/assist.html", _assist_context(session, principal, view, done), principal=principal
    )


def _assist_context(
    session: SessionDep, principal: Principal, view: assist.RequestView, done: str | None = None
) -> dict[str, Any]:
    return {
        "r": view,
        "outcomes": assist.OUTCOMES,
        "done": done,
        "communities": picker_communities(session, principal)
        if view.box == "received" and view.status is AssistStatus.acknowledged
        else [],
    }


@router.post("/tracing/assist/{request_id}", response_class=HTMLResponse)
def assist_act(
    request: Request,
    request_id: ItemId,
    principal: Assistant,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    action: Annotated[Literal["acknowledge", "decline", "locate", "apply_plan", "report", "reveal"], Form()],
    reason: Annotated[str, Form(max_length=300)] = "",
    person_id: Annotated[str, Form(max_length=12)] = "",
    community_code: Annotated[str, Form(max_length=12)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=280)] = "",
) -> Response:
    """One step of handling a received request (the receiving side only)."""
    ip = client_ip(request)
    if action == "reveal":
        view = assist.reveal(session, vault, principal, request_id, ip=ip)
        return render(
            request, "tracing/assist.html", _assist_context(session, principal, view), principal=principal
        )
    if action == "acknowledge":
        assist.acknowledge(session, principal, request_id, ip=ip)
    elif action == "decline":
        assist.decline(session, principal, request_id, reason, ip=ip)
    elif action == "locate":
        chosen = id_or_none(person_id)
        assist.locate(
            session,
            vault,
            bus,
            principal,
            request_id,
            person_id=chosen,
            community_code=community_code,
            address=address,
            ip=ip,
        )
    elif action == "apply_plan":
        assist.apply_plan(session, bus, principal, request_id, ip=ip)
    else:
        assist.report(session, principal, request_id, outcome, note, ip=ip)
    return RedirectResponse(f"/tracing/assist/{request_id}?done={action}", status_code=303)
