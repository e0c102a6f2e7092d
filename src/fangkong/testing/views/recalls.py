"""The recall of positive pools: members to locate and retest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.deps import BusDep, RowId, SessionDep
from fangkong.testing.models import RecallState
from fangkong.testing.service import recall
from fangkong.testing.views.common import Reader, Sampler, _can, _hours_left, router
from fangkong.web.templating import render


@dataclass(frozen=True)
class PoolRecall:
    """A positive pool and its members to find, with the measured time to find them all."""

    timing: recall.RecallTiming
    members: list[recall.RecallView]
    hours_left: float


@router.get("/testing/recalls", response_class=HTMLResponse)
def recalls_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    state: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    wanted = RecallState(state) if state in {s.value for s in RecallState} else None
    members = recall.recall_list(session, principal, state=wanted)
    by_tube: dict[int, list[recall.RecallView]] = {}
    for member in members:
        by_tube.setdefault(member.tube_id, []).append(member)
    now = clock.utcnow()
    pools = [
        PoolRecall(
            recall.recall_timing(session, principal, tube_id),
            people,
            _hours_left(min(p.deadline_at for p in people), now),
        )
        for tube_id, people in by_tube.items()
    ]
    return render(
        request,
        "testing/recalls.html",
        {
            "pools": pools,
            "state": wanted.value if wanted else "",
            "states": [s.value for s in RecallState],
            "now": now,
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/testing/recalls/{recall_id}/located")
def mark_located(recall_id: RowId, principal: Sampler, session: SessionDep, bus: BusDep) -> Response:
    recall.mark_located(session, bus, principal, recall_id)
    return RedirectResponse(f"/testing/recalls#recall-{recall_id}", status_code=303)


@router.post("/testing/recalls/{recall_id}/retest")
def record_retest(
    recall_id: RowId,
    principal: Sampler,
    session: SessionDep,
    bus: BusDep,
    barcode: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    recall.record_retest(session, principal, recall_id, barcode, bus=bus)
    return RedirectResponse(f"/testing/recalls#recall-{recall_id}", status_code=303)
