"""JSON routes of the areas capability: thin (parse, call the service, shape the answer).

Every route here needs a login and touches the database, so each is a plain ``def`` (FastAPI runs it in
a worker thread; see ``core.deps``). Reading areas needs ``areas.read``, running proposals
``areas.propose``, designating and lifting ``areas.approve`` (the command centre); the worklist of
arrivals ``arrivals.manage``, a checkpoint's look-up ``checkpoint.lookup`` (sent in the body: an ID
number never goes into a URL that logs keep), doorstep services ``doorstep.manage``. The public page,
its feed and the public arrival form are in ``views`` (no login, served from the cache).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from fangkong.areas import service
from fangkong.areas.models import AreaState, RiskLevel, UnitKind, WorklistState
from fangkong.areas.schemas import (
    MAX_ID,
    AddedPublic,
    ApplyCreate,
    ApprovalCreate,
    AreaPage,
    AreaPublic,
    ArrivalPage,
    ArrivalPublic,
    ArrivalStateUpdate,
    BoardRowPublic,
    CalendarPublic,
    ChangePublic,
    CheckpointLookupCreate,
    CheckpointPublic,
    CountyLevelPublic,
    DepartmentPublic,
    DepartmentUpdate,
    DueChangePublic,
    FlagsPublic,
    FlagsUpdate,
    HouseholdsCreate,
    ProposalsPublic,
    ProposeCreate,
    ReceiptPublic,
    RejectCreate,
    RequestCancel,
    RequestCreate,
    RequestDone,
    RequestPublic,
    StaffArrivalCreate,
    VulnerablePublic,
)
from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, VaultDep, client_ip
from fangkong.core.permissions import Permission

router = APIRouter(prefix="/api/areas", tags=["areas"])

Reader = Annotated[Principal, Depends(Require(Permission.areas_read))]
Proposer = Annotated[Principal, Depends(Require(Permission.areas_propose))]
Approver = Annotated[Principal, Depends(Require(Permission.areas_approve))]
ArrivalsManager = Annotated[Principal, Depends(Require(Permission.arrivals_manage))]
Checkpoint = Annotated[Principal, Depends(Require(Permission.checkpoint_lookup))]
Doorstep = Annotated[Principal, Depends(Require(Permission.doorstep_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
# Days a calendar or a due list may be asked about: a year either side is already far past any clock.
DayQuery = Annotated[dt.date | None, Query()]
MAX_CALENDAR_DAYS = 366


def _day_in_range(day: dt.date | None, field: str) -> dt.date | None:
    from fangkong.core.errors import InvalidInput, RowError
    from fangkong.core.i18n import Message

    if day is None:
        return None
    today = clock.today()
    if abs((day - today).days) > MAX_CALENDAR_DAYS:
        raise InvalidInput(
            [RowError(1, field, Message("must be within {days} days of today", days=MAX_CALENDAR_DAYS))]
        )
    return day


# ------------------------------------------------------------------------------------------ areas


@router.get("", response_model=AreaPage)
def list_areas(
    principal: Reader,
    session: SessionDep,
    state: AreaState | None = None,
    level: RiskLevel | None = None,
    unit_kind: UnitKind | None = None,
    q: Annotated[str, Query(max_length=120)] = "",
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=service.designation.MAX_PAGE_SIZE)] = 50,
) -> AreaPage:
    """Areas in your jurisdiction, newest first: proposals, areas in force, lifted and rejected ones."""
    filters = service.designation.AreaFilter(state=state, level=level, unit_kind=unit_kind, q=q)
    found = service.designation.list_areas(session, principal, filters, page=page, size=size)
    return AreaPage(
        items=[AreaPublic.model_validate(a) for a in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


@router.post("/proposals", response_model=ProposalsPublic)
def propose(body: ProposeCreate, principal: Proposer, session: SessionDep) -> ProposalsPublic:
    """Proposals from the cases in your jurisdiction (homes high, places stayed medium), as the
    protocol in force allows; repeating the run proposes nothing twice."""
    since = _day_in_range(body.since, "since") if body.since is not None else None
    created = service.designation.propose_from_cases(session, principal, since=since)
    notice = service.designation.proposal_notice(session, principal)
    return ProposalsPublic(
        created=[AreaPublic.model_validate(a) for a in created],
        notice=notice.render("en") if notice is not None else None,
    )


@router.get("/due", response_model=list[DueChangePublic])
def due_changes(principal: Reader, session: SessionDep, on: DayQuery = None) -> list[DueChangePublic]:
    """Each change falling due by ``on`` (default today) and what blocks it (a new case, a missing
    negative round of everyone)."""
    day = _day_in_range(on, "on") or clock.today()
    return [
        DueChangePublic.model_validate(d) for d in service.designation.due_changes(session, principal, day)
    ]


@router.get("/calendar", response_model=list[CalendarPublic])
def lifting_calendar(
    principal: Reader, session: SessionDep, start: DayQuery = None, end: DayQuery = None
) -> list[CalendarPublic]:
    """Which area changes on which day if nothing new happens."""
    first = _day_in_range(start, "start")
    last = _day_in_range(end, "end")
    entries = service.designation.lifting_calendar(session, principal, start=first, end=last)
    return [CalendarPublic.model_validate(e) for e in entries]


@router.get("/counties", response_model=list[CountyLevelPublic])
def county_levels(principal: Reader, session: SessionDep) -> list[CountyLevelPublic]:
    """Counties with high or medium areas in force, and how many: the rest of each is low."""
    return [
        CountyLevelPublic.model_validate(c) for c in service.designation.county_levels(session, principal)
    ]


@router.get("/{area_id}", response_model=AreaPublic)
def get_area(area_id: ItemId, principal: Reader, session: SessionDep) -> AreaPublic:
    return AreaPublic.model_validate(service.designation.get_area(session, principal, area_id))


@router.get("/{area_id}/timeline", response_model=list[ChangePublic])
def timeline(area_id: ItemId, principal: Reader, session: SessionDep) -> list[ChangePublic]:
    """Every step of an area, oldest first: proposed, designated, new cases, downgraded, lifted."""
    return [ChangePublic.model_validate(c) for c in service.designation.timeline(session, principal, area_id)]


@router.post("/{area_id}/approve", response_model=AreaPublic)
def approve(
    area_id: ItemId,
    body: ApprovalCreate,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AreaPublic:
    """The command centre designates a proposal, as proposed or with its level, unit or name adjusted."""
    area = service.designation.approve(
        session,
        bus,
        principal,
        area_id,
        level=body.level,
        unit_kind=body.unit_kind,
        name=body.name,
        ip=client_ip(request),
    )
    return AreaPublic.model_validate(area)


@router.post("/{area_id}/reject", response_model=AreaPublic)
def reject(
    area_id: ItemId, body: RejectCreate, principal: Approver, session: SessionDep, request: Request
) -> AreaPublic:
    area = service.designation.reject(session, principal, area_id, reason=body.reason, ip=client_ip(request))
    return AreaPublic.model_validate(area)


@router.post("/{area_id}/households", response_model=AddedPublic)
def add_households(
    area_id: ItemId, body: HouseholdsCreate, principal: Proposer, session: SessionDep, request: Request
) -> AddedPublic:
    """List the registry's households inside an area smaller than its community."""
    added = service.designation.add_households(
        session, principal, area_id, body.household_ids, ip=client_ip(request)
    )
    return AddedPublic(added=added)


@router.post("/{area_id}/apply", response_model=AreaPublic)
def apply_change(
    area_id: ItemId,
    body: ApplyCreate,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AreaPublic:
    """Apply the change due today (409 naming what blocks it, or when it falls due)."""
    area = service.designation.apply_change(
        session, bus, principal, area_id, body.to_level, ip=client_ip(request)
    )
    return AreaPublic.model_validate(area)


@router.get("/{area_id}/vulnerable", response_model=list[VulnerablePublic])
def vulnerable(area_id: ItemId, principal: Doorstep, session: SessionDep) -> list[VulnerablePublic]:
    """Residents of a sealed area aged 80 or more, living alone, pregnant or on regular treatment."""
    return [
        VulnerablePublic.model_validate(v)
        for v in service.doorstep.vulnerable_in_area(session, principal, area_id)
    ]


# ------------------------------------------------------------------------------------------ arrivals


@router.get("/arrivals/worklist", response_model=ArrivalPage)
def worklist(
    principal: ArrivalsManager,
    session: SessionDep,
    state: WorklistState | None = None,
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=service.arrivals.MAX_PAGE_SIZE)] = 50,
) -> ArrivalPage:
    """Arrivals staying in your jurisdiction, one row a trip however many channels reported it."""
    found = service.arrivals.worklist(session, principal, state=state, page=page, size=size)
    return ArrivalPage(
        items=[ArrivalPublic.model_validate(a) for a in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


@router.post("/arrivals", response_model=ReceiptPublic, status_code=201)
def report_arrival(
    body: StaffArrivalCreate,
    principal: ArrivalsManager,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    request: Request,
) -> ReceiptPublic:
    """A trip reported by staff; a trip already known merges into its row (``merged``)."""
    data = service.arrivals.ArrivalInput(**body.model_dump(exclude={"channel"}))
    receipt = service.arrivals.register_arrival(
        session,
        vault,
        bus,
        data,
        channel=body.channel,
        reporter=principal.username,
        ip=client_ip(request),
    )
    return ReceiptPublic.model_validate(receipt)


@router.get("/arrivals/{arrival_id}", response_model=ArrivalPublic)
def get_arrival(arrival_id: ItemId, principal: ArrivalsManager, session: SessionDep) -> ArrivalPublic:
    return ArrivalPublic.model_validate(service.arrivals.get(session, principal, arrival_id))


@router.post("/arrivals/{arrival_id}/state", response_model=ArrivalPublic)
def mark_arrival(
    arrival_id: ItemId,
    body: ArrivalStateUpdate,
    principal: ArrivalsManager,
    session: SessionDep,
    request: Request,
) -> ArrivalPublic:
    """The community's progress on one arrival: contacted, plan applied, closed."""
    view = service.arrivals.mark(session, principal, arrival_id, body.state, ip=client_ip(request))
    return ArrivalPublic.model_validate(view)


@router.post("/checkpoint/lookup", response_model=CheckpointPublic)
def checkpoint_lookup(
    body: CheckpointLookupCreate,
    principal: Checkpoint,
    session: SessionDep,
    vault: VaultDep,
    request: Request,
) -> CheckpointPublic:
    """Only what a checkpoint needs: masked name, category, measure, valid until (each look-up audited)."""
    answer = service.checkpoints.lookup(
        session, vault, principal, body.id_number, checkpoint=body.checkpoint, ip=client_ip(request)
    )
    return CheckpointPublic.model_validate(answer)


# ------------------------------------------------------------------------------------------ doorstep


@router.get("/doorstep/board", response_model=list[BoardRowPublic])
def doorstep_board(principal: Reader, session: SessionDep) -> list[BoardRowPublic]:
    """Per area in force: requests open, late and done; areas with late requests first."""
    return [BoardRowPublic.model_validate(r) for r in service.doorstep.board(session, principal)]


@router.get("/doorstep/requests", response_model=list[RequestPublic])
def doorstep_requests(
    principal: Doorstep,
    session: SessionDep,
    area_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    open_only: bool = False,
) -> list[RequestPublic]:
    """Requests in your jurisdiction, medical emergencies and the nearest deadlines first."""
    rows = service.doorstep.list_requests(session, principal, area_id=area_id, open_only=open_only)
    return [RequestPublic.model_validate(r) for r in rows]


@router.post("/doorstep/requests", response_model=RequestPublic, status_code=201)
def open_request(
    body: RequestCreate, principal: Doorstep, session: SessionDep, bus: BusDep, request: Request
) -> RequestPublic:
    """Log a request from a sealed area; its deadline follows from its kind (an emergency: 30 minutes)."""
    view = service.doorstep.open_request(
        session,
        bus,
        principal,
        kind=body.kind.value,
        detail=body.detail,
        area_id=body.area_id,
        person_id=body.person_id,
        ip=client_ip(request),
    )
    return RequestPublic.model_validate(view)


@router.post("/doorstep/requests/{request_id}/take", response_model=RequestPublic)
def take_request(
    request_id: ItemId, principal: Doorstep, session: SessionDep, request: Request
) -> RequestPublic:
    return RequestPublic.model_validate(
        service.doorstep.take(session, principal, request_id, ip=client_ip(request))
    )


@router.post("/doorstep/requests/{request_id}/done", response_model=RequestPublic)
def complete_request(
    request_id: ItemId, body: RequestDone, principal: Doorstep, session: SessionDep, request: Request
) -> RequestPublic:
    view = service.doorstep.complete(
        session, principal, request_id, outcome=body.outcome, ip=client_ip(request)
    )
    return RequestPublic.model_validate(view)


@router.post("/doorstep/requests/{request_id}/cancel", response_model=RequestPublic)
def cancel_request(
    request_id: ItemId, body: RequestCancel, principal: Doorstep, session: SessionDep, request: Request
) -> RequestPublic:
    view = service.doorstep.cancel(session, principal, request_id, reason=body.reason, ip=client_ip(request))
    return RequestPublic.model_validate(view)


@router.put("/doorstep/people/{person_id}/flags", response_model=FlagsPublic)
def set_flags(
    person_id: ItemId, body: FlagsUpdate, principal: Doorstep, session: SessionDep, request: Request
) -> FlagsPublic:
    """What a community worker knows about a resident: pregnant, dialysis, regular treatment, alone."""
    flags = service.doorstep.set_flags(
        session,
        principal,
        person_id,
        pregnant=body.pregnant,
        dialysis=body.dialysis,
        regular_treatment=body.regular_treatment,
        living_alone=body.living_alone,
        note=body.note,
        ip=client_ip(request),
    )
    return FlagsPublic.model_validate(flags)


@router.get("/doorstep/departments", response_model=list[DepartmentPublic])
def departments(principal: Reader, session: SessionDep, open_only: bool = False) -> list[DepartmentPublic]:
    """Emergency departments of your city, open ones first, with when each status was confirmed."""
    rows = service.doorstep.emergency_departments(session, principal, open_only=open_only)
    return [DepartmentPublic.model_validate(d) for d in rows]


@router.put("/doorstep/departments", response_model=DepartmentPublic)
def set_department(
    body: DepartmentUpdate, principal: Doorstep, session: SessionDep, request: Request
) -> DepartmentPublic:
    """Say whether an emergency department takes patients now (confirming it keeps it current)."""
    view = service.doorstep.set_emergency_department(
        session,
        principal,
        jurisdiction_id=body.jurisdiction_id,
        name=body.name,
        open=body.open,
        phone=body.phone,
        note=body.note,
        ip=client_ip(request),
    )
    return DepartmentPublic.model_validate(view)
