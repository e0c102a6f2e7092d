"""JSON routes of the outreach work (应接尽接): the worklist, contact attempts, the day's reminders, the
Excel export and the ranking of communities by their unvaccinated elderly. Thin: parse, call
``service.outreach``, shape.

The worklist, attempts, reminders and export need ``outreach.work`` (community workers); the ranking,
a planning view, ``vaccination.read``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.vaccination.rules import outreach as rules
from fangkong.vaccination.schemas.outreach import (
    AttemptCreate,
    AttemptPublic,
    GapPagePublic,
    GapPublic,
    WorkItemPublic,
    WorkPagePublic,
)
from fangkong.vaccination.service import outreach

router = APIRouter(prefix="/api/vaccination", tags=["vaccination"])

Worker = Annotated[Principal, Depends(Require(Permission.outreach_work))]
Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
Size = Annotated[int, Query(ge=1, le=outreach.MAX_PAGE_SIZE)]
Code = Annotated[str | None, Query(min_length=1, max_length=12, description="jurisdiction code")]
MinAge = Annotated[int, Query(ge=3, le=120)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(found: outreach.WorkPage) -> WorkPagePublic:
    return WorkPagePublic(
        items=[WorkItemPublic.model_validate(i) for i in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


@router.get("/outreach", response_model=WorkPagePublic)
def worklist(
    principal: Worker,
    session: SessionDep,
    jurisdiction: Code = None,
    min_age: MinAge = rules.MIN_AGE,
    page: PageNo = 1,
    size: Size = 50,
) -> WorkPagePublic:
    """People aged ``min_age``+ who are unvaccinated or due a dose, oldest first, with their last
    contact and next reminder (those closed by their last contact's outcome left out)."""
    path = outreach.scope_path(session, principal, jurisdiction)
    return _page(outreach.worklist(session, principal, jpath=path, min_age=min_age, page=page, size=size))


@router.get("/outreach/reminders", response_model=WorkPagePublic)
def reminders(
    principal: Worker,
    session: SessionDep,
    day: dt.date | None = None,
    jurisdiction: Code = None,
    page: PageNo = 1,
    size: Size = 50,
) -> WorkPagePublic:
    """Who to remind on ``day`` (default today): due soon, due, overdue (weekly), appointment tomorrow."""
    path = outreach.scope_path(session, principal, jurisdiction)
    found = outreach.reminders(session, principal, day or clock.today(), jpath=path, page=page, size=size)
    return _page(found)


@router.get("/outreach/export.xlsx")
def export(
    principal: Worker,
    session: SessionDep,
    jurisdiction: Code = None,
    min_age: MinAge = rules.MIN_AGE,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> Response:
    """The whole worklist as an Excel workbook (names masked)."""
    path = outreach.scope_path(session, principal, jurisdiction)
    data = outreach.export_xlsx(session, principal, jpath=path, min_age=min_age, language=lang)
    name = f"outreach-{clock.today().isoformat()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/outreach/gaps", response_model=GapPagePublic)
def gaps(
    principal: Reader, session: SessionDep, jurisdiction: Code = None, page: PageNo = 1, size: Size = 50
) -> GapPagePublic:
    """Communities ranked by unvaccinated people aged 60+ (then 80+), with the plan each gap calls for."""
    path = outreach.scope_path(session, principal, jurisdiction)
    found = outreach.gaps(session, principal, path, page=page, size=size)
    return GapPagePublic(
        items=[
            GapPublic(
                jurisdiction_id=r.jurisdiction_id,
                code=r.code,
                name=r.name,
                people_60=r.gap.people_60,
                unvaccinated_60=r.gap.unvaccinated_60,
                unvaccinated_80=r.gap.unvaccinated_80,
                due_60=r.gap.due_60,
                unvaccinated_share=r.share,
                plans=r.plans,
            )
            for r in found.items
        ],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
        unvaccinated_60=found.unvaccinated_60,
        unvaccinated_80=found.unvaccinated_80,
    )


@router.get("/outreach/{person_id}/attempts", response_model=list[AttemptPublic])
def attempts(person_id: RowId, principal: Worker, session: SessionDep) -> list[AttemptPublic]:
    """A person's contact attempts, newest first."""
    return [AttemptPublic.model_validate(a) for a in outreach.attempts_of(session, principal, person_id)]


@router.post("/outreach/{person_id}/attempts", response_model=AttemptPublic, status_code=201)
def record_attempt(
    person_id: RowId, body: AttemptCreate, principal: Worker, session: SessionDep, request: Request
) -> AttemptPublic:
    """Record a contact attempt and its outcome (an appointment with its day)."""
    attempt = outreach.record_attempt(
        session,
        principal,
        person_id,
        body.method,
        body.outcome,
        body.appointment_on,
        body.note,
        attempted_on=body.attempted_on,
        ip=client_ip(request),
    )
    return AttemptPublic.model_validate(attempt)
