"""Web pages of the quarantine capability, Chinese first, for the quarantine manager.

The reserve list with its standard (rooms per 10,000 residents) and the activation advice; a site's
room board and its status buttons; room import; the to-place list with its deadlines counting down and
the bulk placement; one person's placement; transfer batches with the driver's sheet; the census chart;
the activation history. The pages only shape what the use cases in ``quarantine.service`` return:
who must be placed and until when is read from the plans there, never kept here.

Forms are htmx forms (``web/errors.py``): a refused one shows each message beside its field.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.permissions import Permission
from fangkong.core.scope import under
from fangkong.core.uploads import save_upload
from fangkong.quarantine import service
from fangkong.quarantine.models import RoomKind, RoomState, SiteKind, SiteStatus
from fangkong.web.forms import optional_iso_date, whole_number
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation. Three, so that the
# widest role's top bar stays one line; transfers and the activation history are linked from these.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.quarantine_read, "/quarantine", "Quarantine sites"),
    (Permission.quarantine_read, "/quarantine/to-place", "To place"),
    (Permission.quarantine_read, "/quarantine/census", "Census"),
]

Reader = Annotated[Principal, Depends(Require(Permission.quarantine_read))]
Manager = Annotated[Principal, Depends(Require(Permission.quarantine_manage))]
Approver = Annotated[Principal, Depends(Require(Permission.quarantine_approve))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

SITES_PAGE = 50
TO_PLACE_PAGE = 100
# A room file is a site's rooms: a few thousand rows at most.
MAX_ROOM_FILE_BYTES = 20 * 1024 * 1024
# The status buttons of a site: (action, the status it leaves from, button words). Activation is the
# command centre's decision (approve permission); the others are the site manager's.
STATUS_ACTIONS: tuple[tuple[str, SiteStatus, str], ...] = (
    ("activate", SiteStatus.reserve, "Activate"),
    ("open", SiteStatus.preparing, "Open to arrivals"),
    ("start_closing", SiteStatus.open, "Start closing"),
    ("finish_closing", SiteStatus.closing, "Return to reserve"),
    ("close_for_good", SiteStatus.reserve, "Close for good"),
)
STATE_COLOURS = {
    RoomState.free.value: "#2f855a",
    RoomState.occupied.value: "#b42318",
    RoomState.cleaning.value: "#b7791f",
    RoomState.out_of_service.value: "#616e7c",
}


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _can(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.can(Permission.quarantine_manage),
        "can_approve": principal.can(Permission.quarantine_approve),
    }


def _places(session: Session, principal: Principal) -> list[Jurisdiction]:
    """Counties and townships in scope (drill sandboxes left out): where a site may stand."""
    levels = [Level.county, Level.township]
    return [
        j
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(levels))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
        if not j.is_sandbox
    ]


def _optional_time(text: str, field: str) -> dt.datetime | None:
    """A local wall-clock time from a form (``2026-12-07T09:30``) as an aware UTC instant."""
    value = text.strip().replace("T", " ")
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            [
                RowError(
                    1,
                    field,
                    Message("“{value}” is not a time (write it as 2022-07-01 18:30, or a date)", value=text),
                )
            ]
        ) from None
    return clock.as_utc(moment) if moment.tzinfo else clock.from_local(moment)


# ------------------------------------------------------------------------------------------ sites


def _sites_context(
    session: Session, principal: Principal, status: SiteStatus | None, page: int
) -> dict[str, Any]:
    can = _can(principal)
    return {
        "sites": service.sites.list_sites(session, principal, status=status, page=page, size=SITES_PAGE),
        "reserve": service.sites.reserve_standard(session, principal),
        "advice": service.activation.evaluate(session, principal),
        "rule": service.activation.get_rule(session, principal),
        "status": status.value if status else "",
        "statuses": [s.value for s in SiteStatus],
        "kinds": [k.value for k in SiteKind],
        "places": _places(session, principal) if can["can_manage"] else [],
        "form": {"tier": "1", "hours_to_open": "24", "kind": SiteKind.hotel.value},
        "errors": [],
        **can,
    }


@router.get("/quarantine", response_class=HTMLResponse)
def sites_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    status: SiteStatus | None = None,
    page: PageNo = 1,
) -> Response:
    return render(
        request,
        "quarantine/sites.html",
        _sites_context(session, principal, status, page),
        principal=principal,
    )


@router.post("/quarantine/sites", response_class=HTMLResponse)
def create_site(
    request: Request,
    principal: Manager,
    session: SessionDep,
    name: Annotated[str, Form(max_length=120)] = "",
    kind: Annotated[SiteKind, Form()] = SiteKind.hotel,
    jurisdiction_code: Annotated[str, Form(max_length=12)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    operator: Annotated[str, Form(max_length=120)] = "",
    contact_name: Annotated[str, Form(max_length=60)] = "",
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    tier: Annotated[str, Form(max_length=6)] = "1",
    hours_to_open: Annotated[str, Form(max_length=6)] = "24",
) -> Response:
    try:
        data = service.sites.SiteInput(
            name=name.strip(),
            kind=kind,
            address=address.strip(),
            jurisdiction_code=jurisdiction_code.strip(),
            operator=operator.strip(),
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            tier=whole_number(tier, "tier", low=1, high=9),
            hours_to_open=whole_number(hours_to_open, "hours_to_open", low=0, high=720),
        )
        site = service.sites.create_site(session, principal, data, ip=client_ip(request))
    except DomainError as exc:
        if _htmx(request):
            raise  # the error handler answers htmx: each message beside its field, the input kept
        session.rollback()
        context = _sites_context(session, principal, None, 1)
        context["errors"] = exc.errors if isinstance(exc, InvalidInput) else [exc]
        context["form"] = {
            "name": name,
            "kind": kind.value,
            "jurisdiction_code": jurisdiction_code,
            "address": address,
            "operator": operator,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "tier": tier,
            "hours_to_open": hours_to_open,
        }
        return render(request, "quarantine/sites.html", context, principal=principal, status_code=422)
    return RedirectResponse(f"/quarantine/sites/{site.id}", status_code=303)


@router.post("/quarantine/rule")
def set_rule(
    request: Request,
    principal: Approver,
    session: SessionDep,
    occupancy_percent: Annotated[str, Form(max_length=6)] = "80",
    forecast_hours: Annotated[str, Form(max_length=6)] = "48",
) -> Response:
    """The jurisdiction's activation rule: the command centre decides when the next tier opens."""
    share = whole_number(occupancy_percent, "occupancy_percent", low=1, high=100) / 100
    hours = whole_number(forecast_hours, "forecast_hours", low=1, high=720)
    service.activation.set_rule(session, principal, share, hours, ip=client_ip(request))
    return RedirectResponse("/quarantine#rule", status_code=303)


@router.get("/quarantine/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, site_id: RowId, principal: Reader, session: SessionDep) -> Response:
    site = service.sites.get_site(session, principal, site_id)
    can = _can(principal)
    actions = [
        (action, words)
        for action, before, words in STATUS_ACTIONS
        if before == site.status and (can["can_approve"] if action == "activate" else can["can_manage"])
    ]
    return render(
        request,
        "quarantine/site.html",
        {
            "site": site,
            "board": service.stays.room_board(session, principal, site_id),
            "history": service.activation.history(session, principal, site_id),
            "staffing": service.staffing.staffing(session, principal, site_id),
            "postable": service.staffing.postable(session, principal, site_id) if can["can_manage"] else [],
            "posting_roles": service.staffing.ROLES,
            "today": clock.today().isoformat(),
            "actions": actions,
            "colours": STATE_COLOURS,
            "states": [s.value for s in RoomState],
            **can,
        },
        principal=principal,
    )


@router.post("/quarantine/sites/{site_id}/activate")
def activate_site(
    request: Request,
    site_id: RowId,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    service.activation.activate(
        session, bus, principal, site_id, reason=reason.strip(), ip=client_ip(request)
    )
    return RedirectResponse(f"/quarantine/sites/{site_id}", status_code=303)


@router.post("/quarantine/sites/{site_id}/status")
def change_status(
    request: Request,
    site_id: RowId,
    principal: Manager,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)],
) -> Response:
    steps = {
        "open": service.activation.mark_open,
        "start_closing": service.activation.start_closing,
        "finish_closing": service.activation.finish_closing,
        "close_for_good": service.activation.close_for_good,
    }
    step = steps.get(action)
    if step is None:
        raise InvalidInput([RowError(1, "action", Message("unknown action “{value}”", value=action))])
    step(session, principal, site_id, ip=client_ip(request))
    return RedirectResponse(f"/quarantine/sites/{site_id}", status_code=303)


@router.post("/quarantine/sites/{site_id}/postings")
def post_staff(
    request: Request,
    site_id: RowId,
    principal: Manager,
    session: SessionDep,
    staff_id: Annotated[str, Form(max_length=12)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    starts_on: Annotated[str, Form(max_length=10)] = "",
    ends_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Post a staff member to the site in a role, from a day (today: now) until a day or open-ended."""
    service.staffing.post_staff(
        session,
        principal,
        site_id,
        whole_number(staff_id, "staff_id", low=1, high=2**31 - 1),
        role,
        starts_on=optional_iso_date(starts_on, "starts_on"),
        ends_on=optional_iso_date(ends_on, "ends_on"),
        ip=client_ip(request),
    )
    return RedirectResponse(f"/quarantine/sites/{site_id}#staff", status_code=303)


@router.post("/quarantine/sites/{site_id}/postings/{posting_id}/end")
def unpost_staff(
    request: Request, site_id: RowId, posting_id: RowId, principal: Manager, session: SessionDep
) -> Response:
    service.staffing.unpost_staff(session, principal, site_id, posting_id, ip=client_ip(request))
    return RedirectResponse(f"/quarantine/sites/{site_id}#staff", status_code=303)


@router.post("/quarantine/sites/{site_id}/rooms/{room_id}/cleaning")
def record_cleaning(
    request: Request,
    site_id: RowId,
    room_id: RowId,
    principal: Manager,
    session: SessionDep,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The terminal disinfection of a room was done: it is free again."""
    service.stays.record_cleaning(session, principal, room_id, note=note.strip(), ip=client_ip(request))
    return RedirectResponse(f"/quarantine/sites/{site_id}#room-{room_id}", status_code=303)


@router.get("/quarantine/history", response_class=HTMLResponse)
def history_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    return render(
        request,
        "quarantine/history.html",
        {"history": service.activation.history(session, principal)},
        principal=principal,
    )


# ------------------------------------------------------------------------------------------ room import


@router.get("/quarantine/rooms/template.xlsx")
def room_template(request: Request, principal: Reader) -> Response:
    return Response(
        service.rooms_import.room_template_xlsx(language_of(request)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''rooms.xlsx"},
    )


@router.get("/quarantine/sites/{site_id}/import", response_class=HTMLResponse)
def import_page(request: Request, site_id: RowId, principal: Manager, session: SessionDep) -> Response:
    site = service.sites.get_site(session, principal, site_id)
    return render(
        request,
        "quarantine/import.html",
        {"site": site, "report": None, "errors": [], "dry_run": True},
        principal=principal,
    )


@router.post("/quarantine/sites/{site_id}/import", response_class=HTMLResponse)
def import_rooms(
    request: Request,
    site_id: RowId,
    principal: Manager,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    site = service.sites.get_site(session, principal, site_id)
    errors: list[RowError] = []
    report = None
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="rooms.csv", limit=MAX_ROOM_FILE_BYTES)
        try:
            report = service.rooms_import.import_rooms(
                session, principal, site_id, path, dry_run=dry_run, ip=client_ip(request)
            )
        except InvalidInput as exc:
            session.rollback()
            errors = exc.errors
    return render(
        request,
        "quarantine/import.html",
        {"site": site, "report": report, "errors": errors, "dry_run": dry_run},
        principal=principal,
        status_code=422 if errors else 200,
    )


# ------------------------------------------------------------------------------------------ to place


def _to_place_context(session: Session, principal: Principal, page: int) -> dict[str, Any]:
    return {
        "result": service.placement.to_place(session, principal, page=page, size=TO_PLACE_PAGE),
        "now": clock.utcnow(),
        **_can(principal),
    }


@router.get("/quarantine/to-place", response_class=HTMLResponse)
def to_place_page(request: Request, principal: Reader, session: SessionDep, page: PageNo = 1) -> Response:
    context = _to_place_context(session, principal, page)
    template = "quarantine/to_place_table.html" if _htmx(request) else "quarantine/to_place.html"
    return render(request, template, {**context, "report": None}, principal=principal)


@router.post("/quarantine/to-place/place-all", response_class=HTMLResponse)
def place_all(request: Request, principal: Manager, session: SessionDep) -> Response:
    """Everyone on the list at once; answers the report (placed counts, each unplaced person's reason)
    and, out of band, the list that remains."""
    report = service.placement.place_people(session, principal, None, ip=client_ip(request))
    context = {**_to_place_context(session, principal, 1), "report": report}
    if _htmx(request):
        return render(request, "quarantine/_place_report.html", {**context, "oob": True}, principal=principal)
    return render(request, "quarantine/to_place.html", context, principal=principal)


def _waiting(session: Session, principal: Principal, person_id: int) -> service.placement.ToPlaceRow:
    """The person's line of the to-place list (NotFound when they are not waiting for a room)."""
    rows = service.placement.to_place_rows(session, principal.jpath, [person_id])
    if not rows:
        raise NotFound(Message("this person is not waiting for a room"))
    return rows[0]


def _rooms_to_choose(session: Session, principal: Principal) -> list[tuple[Any, list[Any]]]:
    """Open sites in scope, each with its rooms that still have a bed."""
    found: list[tuple[Any, list[Any]]] = []
    sites = service.sites.list_sites(session, principal, status=SiteStatus.open, page=1, size=200)
    for row in sites.items:
        board = service.stays.room_board(session, principal, row.id)
        rooms = [
            room
            for floor in board.floors
            for room in floor.rooms
            if room.state in (RoomState.free, RoomState.occupied) and room.occupants < room.beds
        ]
        if rooms:
            found.append((row, rooms))
    return found


@router.get("/quarantine/to-place/{person_id}", response_class=HTMLResponse)
def place_page(request: Request, person_id: RowId, principal: Reader, session: SessionDep) -> Response:
    return render(
        request,
        "quarantine/place.html",
        {
            "row": _waiting(session, principal, person_id),
            "choices": _rooms_to_choose(session, principal),
            "kinds": [k.value for k in RoomKind],
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/quarantine/to-place/{person_id}", response_class=HTMLResponse)
def place_one(
    request: Request,
    person_id: RowId,
    principal: Manager,
    session: SessionDep,
    room_id: Annotated[str, Form(max_length=12)] = "",
    carer_for: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    room = whole_number(room_id, "room_id", low=1, high=2_147_483_647) if room_id.strip() else None
    if room is None:
        raise InvalidInput([RowError(1, "room_id", Message("is required"))])
    carer = whole_number(carer_for, "carer_for", low=1, high=2_147_483_647) if carer_for.strip() else None
    stay = service.placement.place_in_room(
        session, principal, person_id, room, carer_for=carer, ip=client_ip(request)
    )
    return RedirectResponse(f"/quarantine/sites/{stay.site_id}#room-{stay.room_id}", status_code=303)


# ------------------------------------------------------------------------------------------ transfers


@router.get("/quarantine/transfers", response_class=HTMLResponse)
def transfers_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    can = _can(principal)
    sites = service.sites.list_sites(session, principal, status=None, page=1, size=200)
    batches = service.transfers.list_batches(session, principal)
    places = {b.pickup_jurisdiction_id for b in batches}
    place_names = {
        int(jid): str(name)
        for jid, name in session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(places))
        )
    }
    return render(
        request,
        "quarantine/transfers.html",
        {
            "batches": batches,
            "riders": service.transfers.riders_of(session, [b.id for b in batches]),
            "site_names": {s.id: s.name for s in sites.items},
            "place_names": place_names,
            "sites": [s for s in sites.items if s.status in (SiteStatus.preparing, SiteStatus.open)],
            "pickup_default": clock.as_local(clock.utcnow() + dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:00"
            ),
            **can,
        },
        principal=principal,
    )


@router.post("/quarantine/transfers")
def plan_batches(
    request: Request,
    principal: Manager,
    session: SessionDep,
    site_id: Annotated[str, Form(max_length=12)] = "",
    seats: Annotated[str, Form(max_length=4)] = "10",
    pickup_at: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    site = whole_number(site_id, "site_id", low=1, high=2_147_483_647) if site_id.strip() else None
    service.transfers.plan_batches(
        session,
        principal,
        site_id=site,
        seats=whole_number(seats, "seats", low=1, high=60),
        pickup_at=_optional_time(pickup_at, "pickup_at"),
        ip=client_ip(request),
    )
    return RedirectResponse("/quarantine/transfers", status_code=303)


@router.get("/quarantine/transfers/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request, batch_id: RowId, principal: Reader, session: SessionDep, vault: VaultDep
) -> Response:
    """The driver's list: names, phones and pickup addresses in full for a role that may see them
    (the read is audited), masked for the others."""
    sheet = service.transfers.batch_sheet(session, principal, batch_id, vault=vault, ip=client_ip(request))
    return render(
        request,
        "quarantine/batch.html",
        {"sheet": sheet, **_can(principal)},
        principal=principal,
    )


@router.post("/quarantine/transfers/{batch_id}/arrival")
def confirm_arrival(
    request: Request, batch_id: RowId, principal: Manager, session: SessionDep, bus: BusDep
) -> Response:
    service.transfers.confirm_arrival(session, bus, principal, batch_id, ip=client_ip(request))
    return RedirectResponse(f"/quarantine/transfers/{batch_id}", status_code=303)


# ------------------------------------------------------------------------------------------ census


@router.get("/quarantine/census", response_class=HTMLResponse)
def census_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    census = service.census.census(session, principal)
    option = census.chart(language_of(request))
    # Inside a <script>: no "</" may end it early (a site's name is the users' text).
    option_json = json.dumps(option, ensure_ascii=False, default=str).replace("</", "<\\/")
    return render(
        request,
        "quarantine/census.html",
        {"census": census, "option_json": option_json},
        principal=principal,
    )
