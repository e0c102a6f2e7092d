"""Worklists of the orders due, and a sample taken from one."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.deps import RowId, SessionDep
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.testing.models import TestPlace
from fangkong.testing.service import orders
from fangkong.testing.views.common import WORKLIST_PAGE, PageNo, Sampler, _can, _places, router
from fangkong.web.templating import render


def _day(text: str) -> dt.date:
    if not text.strip():
        return clock.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, "day", Message("“{value}” is not a date (write it as 2022-07-01)", value=text))]
        ) from None


@router.get("/testing/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    principal: Sampler,
    session: SessionDep,
    day: Annotated[str, Query(max_length=10)] = "",
    place: Annotated[str, Query(max_length=20)] = "",
    community_id: Annotated[str, Query(max_length=12)] = "",
    page: PageNo = 1,
) -> Response:
    errors: list[RowError] = []
    on = clock.today()
    where = TestPlace(place) if place in {p.value for p in TestPlace} else None
    community = int(community_id) if community_id.isdigit() else None
    try:
        on = _day(day)
    except InvalidInput as exc:
        errors = exc.errors
    due = orders.worklist(
        session, principal, on, place=where, community_id=community, page=page, size=WORKLIST_PAGE
    )
    late = orders.overdue(session, principal, community_id=community, page=1, size=WORKLIST_PAGE)
    return render(
        request,
        "testing/worklist.html",
        {
            "due": due,
            "late": late,
            "day": day or on.isoformat(),
            "on": on,
            "place": where.value if where else "",
            "places": [p.value for p in TestPlace],
            "community_id": community,
            "communities": _places(session, principal, [Level.community]),
            "errors": errors,
            "pages": max(1, math.ceil(due.total / due.size)),
            **_can(principal),
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/testing/orders/{order_id}/sample")
def record_sample(
    order_id: RowId,
    principal: Sampler,
    session: SessionDep,
    barcode: Annotated[str, Form(max_length=60)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    orders.record_sample(session, principal, order_id, barcode)
    # Back to the worklist as it was filtered (only a worklist address: never another site's).
    target = back if back.startswith("/testing/worklist") else "/testing/worklist"
    return RedirectResponse(target, status_code=303)
