"""JSON routes of the quarantine capability: thin (parse, call the service, shape the answer).

Every route that touches the database is a plain ``def`` (FastAPI runs it in a worker thread; see
``core.deps``). Reading needs ``quarantine.read``, changing sites, rooms, placements and stays
``quarantine.manage``, and activating a reserve site ``quarantine.approve`` (the command centre).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, VaultDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.uploads import save_upload
from fangkong.quarantine import service
from fangkong.quarantine.models import (
    BatchState,
    QuarantineSite,
    SiteStatus,
    SiteStatusChange,
    Stay,
    TransferBatch,
)
from fangkong.quarantine.schemas import (
    MAX_ID,
    ActivationCreate,
    ActivationRulePublic,
    ActivationRuleUpdate,
    AddedPublic,
    AdvicePublic,
    ArrivalCreate,
    BatchPlanCreate,
    BatchPublic,
    BatchSheetPublic,
    BoardRoomPublic,
    BulkPlaceCreate,
    CensusPublic,
    CheckInCreate,
    CleaningCreate,
    CountPublic,
    MoveCreate,
    NeedsPublic,
    NeedsUpdate,
    PlaceInRoomCreate,
    PlacementPublic,
    ReleaseDueCreate,
    ReservePublic,
    ReserveSitePublic,
    RoomBoardPublic,
    RoomImportPublic,
    RoomPublic,
    RoomsCreate,
    RoomServiceUpdate,
    SiteCreate,
    SitePage,
    SitePlacedPublic,
    SitePublic,
    SiteStaffingPublic,
    SiteUpdate,
    StaffPostingCreate,
    StaffPostingPublic,
    StatusChangeCreate,
    StatusChangePublic,
    StayPublic,
    ToPlacePage,
    ToPlacePublic,
    UnplacedPublic,
)

router = APIRouter(prefix="/api/quarantine", tags=["quarantine"])

Reader = Annotated[Principal, Depends(Require(Permission.quarantine_read))]
Manager = Annotated[Principal, Depends(Require(Permission.quarantine_manage))]
Approver = Annotated[Principal, Depends(Require(Permission.quarantine_approve))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

# A room list is a few thousand rows; anything this large is not one.
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def instant(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A request time as an aware UTC instant: naive times are local wall-clock times."""
    if value is None:
        return None
    try:
        return clock.from_local(value)
    except (OverflowError, ValueError):
        raise InvalidInput(
            [RowError(1, field, Message("{value} is out of range", value=value.isoformat()))]
        ) from None


def _site_public(session: SessionDep, site: QuarantineSite) -> SitePublic:
    (row,) = service.sites.site_rows(session, [site])
    return SitePublic.model_validate(row)


def _stay_public(session: SessionDep, principal: Principal, stay: Stay) -> StayPublic:
    views = service.stays.stays_of_person(session, principal, stay.person_id)
    return StayPublic.model_validate(next(v for v in views if v.id == stay.id))


# ------------------------------------------------------------------------------------------ sites


@router.get("/sites", response_model=SitePage)
def list_sites(
    principal: Reader,
    session: SessionDep,
    status: SiteStatus | None = None,
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=service.sites.MAX_PAGE_SIZE)] = 50,
) -> SitePage:
    """The reserve list: sites in your jurisdiction (tier 1 first) and the reserve standard per place."""
    result = service.sites.list_sites(session, principal, status=status, page=page, size=size)
    return SitePage(
        items=[SitePublic.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
        pages=result.pages,
        reserve=[ReservePublic.model_validate(r) for r in service.sites.reserve_standard(session, principal)],
    )


def _site_input(body: SiteCreate) -> service.sites.SiteInput:
    return service.sites.SiteInput(**body.model_dump())


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, principal: Manager, session: SessionDep, request: Request) -> SitePublic:
    """Put a site on the reserve list (status reserve; it opens through activation)."""
    site = service.sites.create_site(session, principal, _site_input(body), ip=client_ip(request))
    return _site_public(session, site)


@router.get("/sites/{site_id}", response_model=SitePublic)
def get_site(site_id: ItemId, principal: Reader, session: SessionDep) -> SitePublic:
    return _site_public(session, service.sites.get_site(session, principal, site_id))


@router.patch("/sites/{site_id}", response_model=SitePublic)
def update_site(
    site_id: ItemId, body: SiteUpdate, principal: Manager, session: SessionDep, request: Request
) -> SitePublic:
    """Change a site's particulars; the fields not sent keep their values."""
    site = service.sites.get_site(session, principal, site_id)
    code = session.scalar(select(Jurisdiction.code).where(Jurisdiction.id == site.jurisdiction_id)) or ""
    current = SiteCreate.model_construct(
        name=site.name,
        kind=site.kind,
        address=site.address,
        jurisdiction_code=code,
        operator=site.operator,
        contact_name=site.contact_name,
        contact_phone=site.contact_phone,
        tier=site.tier,
        hours_to_open=site.hours_to_open,
    )
    merged = current.model_copy(update=body.model_dump(exclude_unset=True, exclude_none=True))
    site = service.sites.update_site(session, principal, site_id, _site_input(merged), ip=client_ip(request))
    return _site_public(session, site)


@router.get("/reserve-standard", response_model=list[ReservePublic])
def reserve_standard(
    principal: Reader,
    session: SessionDep,
    level_code: Annotated[str | None, Query(min_length=1, max_length=12)] = None,
) -> list[ReservePublic]:
    """Rooms per 10,000 residents against the standard, with the shortfall, for a place and its children."""
    rows = service.sites.reserve_standard(session, principal, level_code=level_code)
    return [ReservePublic.model_validate(r) for r in rows]


# ------------------------------------------------------------------------------------------ rooms


@router.get("/sites/{site_id}/rooms", response_model=list[BoardRoomPublic])
def list_rooms(site_id: ItemId, principal: Reader, session: SessionDep) -> list[BoardRoomPublic]:
    """The rooms of a site, floor by floor, with who is in each (names masked)."""
    board = service.stays.room_board(session, principal, site_id)
    return [BoardRoomPublic.model_validate(room) for floor in board.floors for room in floor.rooms]


@router.post("/sites/{site_id}/rooms", response_model=AddedPublic, status_code=201)
def add_rooms(
    site_id: ItemId, body: RoomsCreate, principal: Manager, session: SessionDep, request: Request
) -> AddedPublic:
    """Add rooms to a site; a bad room is named by its place in the list (row 1 is the first room)."""
    rooms = [
        service.sites.RoomInput(number=r.number, kind=r.kind, beds=r.beds, floor=r.floor, zone=r.zone)
        for r in body.rooms
    ]
    return AddedPublic(
        added=service.sites.add_rooms(session, principal, site_id, rooms, ip=client_ip(request))
    )


@router.post("/rooms/{room_id}/service", response_model=RoomPublic)
def set_room_service(
    room_id: ItemId, body: RoomServiceUpdate, principal: Manager, session: SessionDep, request: Request
) -> RoomPublic:
    """Take a free room out of service (``in_service`` false) or put it back (true)."""
    room = service.sites.set_room_service(
        session, principal, room_id, body.in_service, body.note, ip=client_ip(request)
    )
    return RoomPublic.model_validate(room)


@router.post("/rooms/{room_id}/cleaning", response_model=RoomPublic)
def record_cleaning(
    room_id: ItemId, body: CleaningCreate, principal: Manager, session: SessionDep, request: Request
) -> RoomPublic:
    """The terminal disinfection of an emptied room was done: it is free again."""
    service.stays.record_cleaning(session, principal, room_id, note=body.note, ip=client_ip(request))
    room, _site = service.placement.get_room(session, principal, room_id)
    return RoomPublic.model_validate(room)


@router.get("/rooms/template")
def room_template(
    principal: Reader,
    format: Literal["xlsx", "csv"] = "xlsx",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """A blank room sheet to fill in (Chinese or English headers, Excel or CSV)."""
    if format == "csv":
        content, media = service.rooms_import.room_template_csv(lang), "text/csv; charset=utf-8"
    else:
        content, media = service.rooms_import.room_template_xlsx(lang), XLSX
    name = f"rooms.{format}"
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/sites/{site_id}/rooms/import", response_model=RoomImportPublic)
def import_rooms(
    site_id: ItemId,
    principal: Manager,
    session: SessionDep,
    request: Request,
    file: Annotated[UploadFile, File()],
    dry_run: bool = False,
) -> RoomImportPublic:
    """Rooms from Excel or CSV: every row checked first, every bad row named (422), all or nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="rooms.xlsx", limit=MAX_UPLOAD_BYTES)
        report = service.rooms_import.import_rooms(
            session, principal, site_id, path, dry_run=dry_run, ip=client_ip(request)
        )
    return RoomImportPublic.model_validate(report)


# ------------------------------------------------------------------------------------------ activation


@router.get("/activation/rule", response_model=ActivationRulePublic)
def get_rule(principal: Reader, session: SessionDep, jurisdiction_id: QueryId = None) -> ActivationRulePublic:
    """When the next tier opens here: the occupancy threshold and the forecast horizon (or the defaults)."""
    return ActivationRulePublic.model_validate(
        service.activation.get_rule(session, principal, jurisdiction_id)
    )


@router.put("/activation/rule", response_model=ActivationRulePublic)
def set_rule(
    body: ActivationRuleUpdate, principal: Manager, session: SessionDep, request: Request
) -> ActivationRulePublic:
    rule = service.activation.set_rule(
        session,
        principal,
        body.occupancy_threshold,
        body.forecast_hours,
        jurisdiction_id=body.jurisdiction_id,
        ip=client_ip(request),
    )
    return ActivationRulePublic.model_validate(rule)


@router.get("/activation/advice", response_model=AdvicePublic)
def activation_advice(principal: Reader, session: SessionDep) -> AdvicePublic:
    """Whether the rule says to open the next tier now, why, and which reserve sites."""
    advice = service.activation.evaluate(session, principal)
    return AdvicePublic(
        activate=advice.activate,
        reasons=[str(r) for r in advice.reasons],
        occupancy=advice.decision.occupancy,
        hours_until_threshold=advice.decision.hours_until_threshold,
        next_tier=advice.decision.next_tier,
        sites=[ReserveSitePublic.model_validate(s) for s in advice.sites],
        rule=ActivationRulePublic.model_validate(advice.rule),
        occupied=advice.occupied,
        capacity_open=advice.capacity_open,
        waiting=advice.waiting,
        days_until_full=advice.days_until_full,
    )


@router.get("/activation/history", response_model=list[StatusChangePublic])
def activation_history(
    principal: Reader, session: SessionDep, site_id: QueryId = None
) -> list[StatusChangePublic]:
    """Every status change of the sites in your jurisdiction (or of one site), who approved it and why."""
    return [
        StatusChangePublic.model_validate(v) for v in service.activation.history(session, principal, site_id)
    ]


def _change(session: SessionDep, principal: Principal, change: SiteStatusChange) -> StatusChangePublic:
    view = next(
        v for v in service.activation.history(session, principal, change.site_id) if v.id == change.id
    )
    return StatusChangePublic.model_validate(view)


@router.post("/sites/{site_id}/activate", response_model=StatusChangePublic)
def activate(
    site_id: ItemId,
    body: ActivationCreate,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> StatusChangePublic:
    """Approve opening a reserve site: it becomes "preparing" and its operator is told."""
    change = service.activation.activate(
        session,
        bus,
        principal,
        site_id,
        reason=body.reason,
        out_of_order=body.out_of_order,
        ip=client_ip(request),
    )
    return _change(session, principal, change)


@router.post("/sites/{site_id}/open", response_model=StatusChangePublic)
def mark_open(
    site_id: ItemId, body: StatusChangeCreate, principal: Manager, session: SessionDep, request: Request
) -> StatusChangePublic:
    """A preparing site is ready: it receives people from now on."""
    change = service.activation.mark_open(
        session, principal, site_id, reason=body.reason, ip=client_ip(request)
    )
    return _change(session, principal, change)


@router.post("/sites/{site_id}/start-closing", response_model=StatusChangePublic)
def start_closing(
    site_id: ItemId, body: StatusChangeCreate, principal: Manager, session: SessionDep, request: Request
) -> StatusChangePublic:
    """No new placements in an open site; those inside stay until their release."""
    change = service.activation.start_closing(
        session, principal, site_id, reason=body.reason, ip=client_ip(request)
    )
    return _change(session, principal, change)


@router.post("/sites/{site_id}/finish-closing", response_model=StatusChangePublic)
def finish_closing(
    site_id: ItemId, body: StatusChangeCreate, principal: Manager, session: SessionDep, request: Request
) -> StatusChangePublic:
    """Back to the reserve list: refused (409, naming what remains) while anyone stays or a room awaits
    cleaning."""
    change = service.activation.finish_closing(
        session, principal, site_id, reason=body.reason, ip=client_ip(request)
    )
    return _change(session, principal, change)


# ------------------------------------------------------------------------------------------ placement


@router.get("/to-place", response_model=ToPlacePage)
def to_place(
    principal: Reader,
    session: SessionDep,
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=service.placement.MAX_PAGE_SIZE)] = 100,
) -> ToPlacePage:
    """People whose plan asks for centralized quarantine and who have no room, earliest deadline first."""
    result = service.placement.to_place(session, principal, page=page, size=size)
    return ToPlacePage(
        items=[ToPlacePublic.model_validate(r) for r in result.items],
        total=result.total,
        late=result.late,
        page=result.page,
        size=result.size,
        pages=result.pages,
    )


@router.put("/people/{person_id}/needs", response_model=NeedsPublic)
def set_needs(
    person_id: ItemId, body: NeedsUpdate, principal: Manager, session: SessionDep, request: Request
) -> NeedsPublic:
    """Care needs placement must know: needs care (goes with a carer), chronically ill (never a carer)."""
    needs = service.placement.set_needs(
        session,
        principal,
        person_id,
        body.needs_care,
        body.chronically_ill,
        body.note,
        ip=client_ip(request),
    )
    return NeedsPublic.model_validate(needs)


@router.post("/place", response_model=PlacementPublic)
def place_people(
    body: BulkPlaceCreate, principal: Manager, session: SessionDep, request: Request
) -> PlacementPublic:
    """Place a whole list in one action (the people given, or everyone to place); each person left
    unplaced comes with the reason."""
    report = service.placement.place_people(session, principal, body.person_ids, ip=client_ip(request))
    return PlacementPublic(
        placed=report.placed,
        by_site=[SitePlacedPublic(site_id=s, site_name=n, placed=c) for s, n, c in report.by_site],
        unplaced=[
            UnplacedPublic(person_id=u.person_id, name=u.name, reason=u.reason, message=str(u.text))
            for u in report.unplaced
        ],
        own_county_share=report.own_county_share,
        seconds=report.seconds,
    )


@router.post("/place-in-room", response_model=StayPublic, status_code=201)
def place_in_room(
    body: PlaceInRoomCreate, principal: Manager, session: SessionDep, request: Request
) -> StayPublic:
    """A coordinator places one person in one room; a room taken meanwhile is a 409, never a double
    booking."""
    stay = service.placement.place_in_room(
        session, principal, body.person_id, body.room_id, carer_for=body.carer_for, ip=client_ip(request)
    )
    return _stay_public(session, principal, stay)


@router.get("/people/{person_id}/stays", response_model=list[StayPublic])
def stays_of_person(person_id: ItemId, principal: Reader, session: SessionDep) -> list[StayPublic]:
    return [
        StayPublic.model_validate(v) for v in service.stays.stays_of_person(session, principal, person_id)
    ]


# ------------------------------------------------------------------------------------------ stays


@router.get("/sites/{site_id}/board", response_model=RoomBoardPublic)
def room_board(site_id: ItemId, principal: Reader, session: SessionDep) -> RoomBoardPublic:
    """Who is where in a site, until when and when next tested, floor by floor (names masked)."""
    return RoomBoardPublic.model_validate(service.stays.room_board(session, principal, site_id))


@router.post("/stays/{stay_id}/check-in", response_model=StayPublic)
def check_in(
    stay_id: ItemId,
    body: CheckInCreate,
    principal: Manager,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> StayPublic:
    stay = service.stays.check_in(
        session, bus, principal, stay_id, at=instant(body.at, "at"), ip=client_ip(request)
    )
    return _stay_public(session, principal, stay)


@router.post("/stays/{stay_id}/move", response_model=StayPublic)
def move(
    stay_id: ItemId, body: MoveCreate, principal: Manager, session: SessionDep, request: Request
) -> StayPublic:
    """A room transfer, under the same rules as a placement."""
    stay = service.stays.move(session, principal, stay_id, body.room_id, ip=client_ip(request))
    return _stay_public(session, principal, stay)


@router.post("/release-due", response_model=CountPublic)
def release_due(
    body: ReleaseDueCreate, principal: Manager, session: SessionDep, request: Request
) -> CountPublic:
    """Check out everyone whose plan's release day has come (rooms go to cleaning); how many left."""
    return CountPublic(count=service.stays.release_due(session, principal, on=body.on, ip=client_ip(request)))


# ------------------------------------------------------------------------------------------ transfers


def _batches(session: SessionDep, batches: list[TransferBatch]) -> list[BatchPublic]:
    riders = service.transfers.riders_of(session, [b.id for b in batches])
    return [BatchPublic.model_validate(b).model_copy(update={"riders": riders.get(b.id, 0)}) for b in batches]


@router.post("/transfers", response_model=list[BatchPublic], status_code=201)
def plan_batches(
    body: BatchPlanCreate, principal: Manager, session: SessionDep, request: Request
) -> list[BatchPublic]:
    """Put everyone placed and not yet in a vehicle into vehicles of ``seats``, by site and pickup area."""
    batches = service.transfers.plan_batches(
        session,
        principal,
        site_id=body.site_id,
        seats=body.seats,
        pickup_at=instant(body.pickup_at, "pickup_at"),
        vehicle_prefix=body.vehicle_prefix,
        ip=client_ip(request),
    )
    return _batches(session, batches)


@router.get("/transfers", response_model=list[BatchPublic])
def list_batches(
    principal: Reader, session: SessionDep, state: BatchState | None = None
) -> list[BatchPublic]:
    return _batches(session, service.transfers.list_batches(session, principal, state=state))


@router.get("/transfers/{batch_id}/sheet", response_model=BatchSheetPublic)
def batch_sheet(
    batch_id: ItemId,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    request: Request,
    reveal: bool = False,
) -> BatchSheetPublic:
    """The driver's list; ``reveal`` shows names, phones and addresses in full to a role that may see
    them (the read is audited), else they are masked."""
    sheet = service.transfers.batch_sheet(
        session, principal, batch_id, vault=vault if reveal else None, ip=client_ip(request)
    )
    return BatchSheetPublic.model_validate(sheet)


@router.post("/transfers/{batch_id}/arrival", response_model=CountPublic)
def confirm_arrival(
    batch_id: ItemId,
    body: ArrivalCreate,
    principal: Manager,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> CountPublic:
    """The vehicle arrived: everyone on it is checked in; how many."""
    count = service.transfers.confirm_arrival(
        session, bus, principal, batch_id, at=instant(body.at, "at"), ip=client_ip(request)
    )
    return CountPublic(count=count)


# ------------------------------------------------------------------------------------------ census


@router.get("/census", response_model=CensusPublic)
def census(
    principal: Reader,
    session: SessionDep,
    days_ahead: Annotated[int, Query(ge=1, le=31)] = 7,
    chart: bool = False,
    lang: Literal["zh", "en"] = "en",
) -> CensusPublic:
    """Occupancy by site and tier, the past 14 days, arrivals and releases for the days ahead, days
    until full; with ``chart``, an ECharts option of occupancy against capacity and the threshold."""
    figures = service.census.census(session, principal, days_ahead=days_ahead)
    shaped = CensusPublic.model_validate(
        {name: getattr(figures, name) for name in CensusPublic.model_fields if name != "chart"}
    )
    if chart:
        shaped.chart = figures.chart(lang)
    return shaped


# ------------------------------------------------------------------------------------------ staffing


def _staffing_public(session: SessionDep, principal: Principal, site_id: int) -> SiteStaffingPublic:
    found = service.staffing.staffing(session, principal, site_id)
    return SiteStaffingPublic(
        site_id=site_id,
        beds=found.beds,
        on_duty=found.on_duty,
        posted=found.posted,
        minimum=found.minimum,
        missing={g.role: g.missing for g in found.gaps},
        checked=found.keeps_roster,
        source=found.source,
        postings=[
            StaffPostingPublic(
                id=r.posting.id,
                staff_id=r.staff.id,
                staff_name=r.staff.name,
                unit=r.staff.unit,
                role=r.posting.role.value,
                starts_at=r.posting.starts_at,
                ends_at=r.posting.ends_at,
            )
            for r in found.rows
        ],
    )


@router.get("/sites/{site_id}/staffing", response_model=SiteStaffingPublic)
def site_staffing(site_id: ItemId, principal: Reader, session: SessionDep) -> SiteStaffingPublic:
    """Who is posted to the site, against the minimum it needs before it opens."""
    return _staffing_public(session, principal, site_id)


@router.post("/sites/{site_id}/postings", response_model=SiteStaffingPublic, status_code=201)
def post_staff(
    site_id: ItemId, body: StaffPostingCreate, principal: Manager, session: SessionDep, request: Request
) -> SiteStaffingPublic:
    """Post a staff member (available, not deployed elsewhere, not posted elsewhere in the period)."""
    service.staffing.post_staff(
        session,
        principal,
        site_id,
        body.staff_id,
        body.role,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        ip=client_ip(request),
    )
    return _staffing_public(session, principal, site_id)


@router.post("/sites/{site_id}/postings/{posting_id}/end", response_model=SiteStaffingPublic)
def unpost_staff(
    site_id: ItemId, posting_id: ItemId, principal: Manager, session: SessionDep, request: Request
) -> SiteStaffingPublic:
    """End a posting now."""
    service.staffing.unpost_staff(session, principal, site_id, posting_id, ip=client_ip(request))
    return _staffing_public(session, principal, site_id)
