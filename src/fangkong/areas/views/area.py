"""One area: its page with its timeline, and the vulnerable residents of a sealed area.

Its routes (``/areas/{area_id}``...) are matched after every other page under ``/areas/``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.areas import service
from fangkong.areas.views.common import LEVEL_COLOURS, Doorstep, Reader, _can
from fangkong.core import clock
from fangkong.core.deps import RowId, SessionDep
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/areas/{area_id}", response_class=HTMLResponse)
def area_page(request: Request, area_id: RowId, principal: Reader, session: SessionDep) -> Response:
    """An area: what it is, why, and every step of its timeline."""
    area = service.designation.get_area(session, principal, area_id)
    due = [
        d for d in service.designation.due_changes(session, principal, clock.today()) if d.area_id == area.id
    ]
    return render(
        request,
        "areas/area.html",
        {
            "area": area,
            "timeline": service.designation.timeline(session, principal, area_id),
            "due": due[0] if due else None,
            "colours": LEVEL_COLOURS,
            **_can(principal),
        },
        principal=principal,
    )


@router.get("/areas/{area_id}/vulnerable", response_class=HTMLResponse)
def vulnerable_page(request: Request, area_id: RowId, principal: Doorstep, session: SessionDep) -> Response:
    """Residents of a sealed area who need looking after (masked), and why."""
    area = service.designation.get_area(session, principal, area_id)
    return render(
        request,
        "areas/vulnerable.html",
        {"area": area, "residents": service.doorstep.vulnerable_in_area(session, principal, area_id)},
        principal=principal,
    )
