"""Arrivals, staff pages: the community's worklist (one row a trip) and the checkpoint look-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.areas import service
from fangkong.areas.models import WorklistState
from fangkong.areas.views.common import ArrivalsManager, Checkpoint, PageNo, _can
from fangkong.core.deps import RowId, SessionDep, VaultDep, client_ip
from fangkong.web.errors import is_htmx
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)

WORKLIST_PAGE = 50


@router.get("/areas/arrivals", response_class=HTMLResponse)
def arrivals_page(
    request: Request,
    principal: ArrivalsManager,
    session: SessionDep,
    state: WorklistState | None = None,
    page: PageNo = 1,
) -> Response:
    """The community's worklist: one row a trip, whatever number of channels reported it."""
    found = service.arrivals.worklist(session, principal, state=state, page=page, size=WORKLIST_PAGE)
    return render(
        request,
        "areas/arrivals.html",
        {
            "found": found,
            "state": state.value if state else "",
            "states": [s.value for s in WorklistState],
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/areas/arrivals/{arrival_id}/state")
def mark_arrival(
    request: Request,
    arrival_id: RowId,
    principal: ArrivalsManager,
    session: SessionDep,
    state: Annotated[WorklistState, Form()],
) -> Response:
    service.arrivals.mark(session, principal, arrival_id, state, ip=client_ip(request))
    return RedirectResponse("/areas/arrivals", status_code=303)


@router.get("/areas/checkpoint", response_class=HTMLResponse)
def checkpoint_page(request: Request, principal: Checkpoint) -> Response:
    return render(request, "areas/checkpoint.html", {"answer": None, "checkpoint": ""}, principal=principal)


@router.post("/areas/checkpoint", response_class=HTMLResponse)
def checkpoint_lookup(
    request: Request,
    principal: Checkpoint,
    session: SessionDep,
    vault: VaultDep,
    id_number: Annotated[str, Form(max_length=40)] = "",
    checkpoint: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """One look-up (audited): masked name, category, measure today, valid until; nothing else."""
    answer = service.checkpoints.lookup(
        session, vault, principal, id_number, checkpoint=checkpoint, ip=client_ip(request)
    )
    # The ID number is not written back into the page: the next traveller's is typed fresh. htmx gets the
    # form and the answer only (they replace the ones on screen); a plain form, the whole page.
    template = "areas/_checkpoint.html" if is_htmx(request) else "areas/checkpoint.html"
    return render(request, template, {"answer": answer, "checkpoint": checkpoint}, principal=principal)
