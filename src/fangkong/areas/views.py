"""Web pages of the areas capability, and the public risk-area page, feed, subscription and arrival form.

Staff pages (Chinese first): the area list with its tile view, the proposals the command centre
approves (level, unit and name adjustable), the lifting calendar with each change due and what blocks
it, an area's timeline, the arrivals worklist per community, the checkpoint look-up, the doorstep
board and the vulnerable residents of a sealed area. They only shape what ``areas.service`` returns.

Public pages take no login and show no personal data. The risk-area page and its JSON feeds are
``async`` routes that read only the process's snapshot (``service.public``): no database query and no
worker thread per view, 304 by ETag. The arrival form (报备), its JSON API and the subscription to one
district are refused before anything is read when they come from another site's page (the Origin and
Fetch-Metadata headers a browser sends), when the address is past its allowance (the services' limits),
or when the body is larger than a form can be; only then does a plain-``def`` route touch the database.
A public answer holds only what the submission itself says.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlparse

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from fangkong.areas import service
from fangkong.areas.models import AreaState, RequestKind, RiskLevel, UnitKind, WorklistState
from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.db import Database
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import LANGUAGES, Message, pick_language, render_text, translations
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.permissions import Permission
from fangkong.web.errors import is_htmx
from fangkong.web.templating import local_time, render, templates

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation: three, so that the
# widest role's top bar stays one line. Proposals, the calendar and the checkpoint are linked from these.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.areas_read, "/areas", "Risk areas"),
    (Permission.arrivals_manage, "/areas/arrivals", "Arrival registrations"),
    (Permission.doorstep_manage, "/areas/doorstep", "Doorstep services"),
]

Reader = Annotated[Principal, Depends(Require(Permission.areas_read))]
Proposer = Annotated[Principal, Depends(Require(Permission.areas_propose))]
Approver = Annotated[Principal, Depends(Require(Permission.areas_approve))]
ArrivalsManager = Annotated[Principal, Depends(Require(Permission.arrivals_manage))]
Checkpoint = Annotated[Principal, Depends(Require(Permission.checkpoint_lookup))]
Doorstep = Annotated[Principal, Depends(Require(Permission.doorstep_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

_Choice = TypeVar("_Choice", RiskLevel, UnitKind)

AREAS_PAGE = 50
WORKLIST_PAGE = 50
# Days the lifting calendar looks ahead (past the longest clock of any protocol: 7 + 7 + 3 days).
CALENDAR_DAYS = 21
# Tiles drawn on the area list (a county's tiles beyond this are counted, not drawn).
MAX_TILES = 3_000
LEVEL_COLOURS = {"high": "#b42318", "medium": "#d97706", "low": "#2f855a"}

# Public answers: browsers and proxies may keep one this long, seconds, then ask again with its ETag.
MAX_AGE_SECONDS = 30
# A public form is a few hundred bytes; anything past this is refused unread (413).
MAX_PUBLIC_BODY = 16 * 1024
# Seconds the public forms' lists of places (counties, communities) are kept before being read again.
PLACES_MAX_AGE_SECONDS = 300.0
# Fields the public arrival form and API take (anything else is refused, named).
PUBLIC_ARRIVAL_FIELDS = (
    "id_number",
    "name",
    "phone",
    "origin_county_code",
    "departed_on",
    "arrived_on",
    "destination_code",
    "address",
    "hotel",
    "origin_area_id",
    "origin_unit",
    "companions",
    "places_visited",
)


def _can(principal: Principal) -> dict[str, bool]:
    return {
        "can_propose": principal.can(Permission.areas_propose),
        "can_approve": principal.can(Permission.areas_approve),
        "can_doorstep": principal.can(Permission.doorstep_manage),
        "can_arrivals": principal.can(Permission.arrivals_manage),
        "can_checkpoint": principal.can(Permission.checkpoint_lookup),
    }


# ------------------------------------------------------------------------------------------ areas


@router.get("/areas", response_class=HTMLResponse)
def areas_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    state: Annotated[str, Query(max_length=20)] = AreaState.in_force.value,
    level: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=120)] = "",
    page: PageNo = 1,
) -> Response:
    """The areas in force as tiles by county (the rest of each such county is low), and the list
    (``state`` empty: every state)."""
    errors: list[RowError] = []
    chosen_state = _state_choice(state, errors)
    chosen_level = _choice(RiskLevel, level, "level", errors)
    if errors:
        raise InvalidInput(errors)
    state, level = (chosen_state.value if chosen_state else ""), (chosen_level.value if chosen_level else "")
    filters = service.designation.AreaFilter(state=chosen_state, level=chosen_level, q=q)
    found = service.designation.list_areas(session, principal, filters, page=page, size=AREAS_PAGE)
    counties = service.designation.county_levels(session, principal)
    names = {c.county_id: c.name for c in counties}
    tiles: dict[int, list[Any]] = {}
    for area in service.designation.areas_in_force(session, principal.jpath)[:MAX_TILES]:
        tiles.setdefault(area.county_id, []).append(area)
    proposed = service.designation.list_areas(
        session, principal, service.designation.AreaFilter(state=AreaState.proposed), size=1
    ).total
    return render(
        request,
        "areas/list.html",
        {
            "found": found,
            "counties": counties,
            "tiles": [(names.get(cid, ""), areas) for cid, areas in tiles.items()],
            "colours": LEVEL_COLOURS,
            "state": state,
            "level": level,
            "q": q,
            "states": [s.value for s in AreaState],
            "proposed": proposed,
            **_can(principal),
        },
        principal=principal,
    )


@router.get("/areas/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    """Proposals waiting for the command centre, each with its reason and the adjustments allowed."""
    found = service.designation.list_areas(
        session,
        principal,
        service.designation.AreaFilter(state=AreaState.proposed),
        size=service.designation.MAX_PAGE_SIZE,
    )
    return render(
        request,
        "areas/proposals.html",
        {
            "found": found,
            "notice": service.designation.proposal_notice(session, principal),
            "levels": [RiskLevel.high.value, RiskLevel.medium.value],
            "units": [u.value for u in UnitKind],
            "created": request.query_params.get("created", ""),
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/areas/proposals/run")
def run_proposals(principal: Proposer, session: SessionDep) -> Response:
    created = service.designation.propose_from_cases(session, principal)
    return RedirectResponse(f"/areas/proposals?created={len(created)}", status_code=303)


@router.post("/areas/{area_id}/approve")
def approve(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    level: Annotated[str, Form(max_length=20)] = "",
    unit_kind: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Designate a proposal (its level, unit or name adjusted), then back to the list of areas in force."""
    errors: list[RowError] = []
    chosen_level = _choice(RiskLevel, level, "level", errors)
    chosen_unit = _choice(UnitKind, unit_kind, "unit_kind", errors)
    if errors:
        raise InvalidInput(errors)
    service.designation.approve(
        session,
        bus,
        principal,
        area_id,
        level=chosen_level,
        unit_kind=chosen_unit,
        name=name if name.strip() else None,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas?state=in_force", status_code=303)


def _choice(kind: type[_Choice], value: str, field: str, errors: list[RowError]) -> _Choice | None:
    if not value.strip():
        return None
    try:
        return kind(value.strip())
    except ValueError:
        errors.append(RowError(1, field, Message("“{value}” is not one of the choices", value=value[:20])))
        return None


def _state_choice(value: str, errors: list[RowError]) -> AreaState | None:
    if not value.strip():
        return None
    try:
        return AreaState(value.strip())
    except ValueError:
        errors.append(RowError(1, "state", Message("“{value}” is not one of the choices", value=value[:20])))
        return None


@router.post("/areas/{area_id}/reject")
def reject(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    service.designation.reject(session, principal, area_id, reason=reason, ip=client_ip(request))
    return RedirectResponse("/areas/proposals", status_code=303)


@router.get("/areas/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    """The changes due today (with what blocks each) and the days ahead if nothing new happens."""
    today = clock.today()
    return render(
        request,
        "areas/calendar.html",
        {
            "today": today,
            "due": service.designation.due_changes(session, principal, today),
            "calendar": service.designation.lifting_calendar(
                session, principal, start=today, end=today + dt.timedelta(days=CALENDAR_DAYS)
            ),
            "days": CALENDAR_DAYS,
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/areas/{area_id}/apply")
def apply_change(
    request: Request,
    area_id: RowId,
    principal: Approver,
    session: SessionDep,
    bus: BusDep,
    to_level: Annotated[RiskLevel, Form()],
) -> Response:
    service.designation.apply_change(session, bus, principal, area_id, to_level, ip=client_ip(request))
    return RedirectResponse("/areas/calendar", status_code=303)


# ------------------------------------------------------------------------------------------ arrivals


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


# ------------------------------------------------------------------------------------------ doorstep


@router.get("/areas/doorstep", response_class=HTMLResponse)
def doorstep_page(request: Request, principal: Doorstep, session: SessionDep) -> Response:
    """Per area: requests open, late, done; the open requests (emergencies first, red when late); the
    emergency departments open now."""
    board = service.doorstep.board(session, principal)
    return render(
        request,
        "areas/doorstep.html",
        {
            "board": board,
            "requests": service.doorstep.list_requests(session, principal, open_only=True),
            "departments": service.doorstep.emergency_departments(session, principal),
            "kinds": [k.value for k in RequestKind],
            "areas": [(r.area_id, r.area_name) for r in board if r.area_id is not None],
            "places": _places_in_scope(session, principal),
        },
        principal=principal,
    )


def _places_in_scope(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """Counties, townships and communities in scope, where an emergency department may be."""
    from fangkong.core.scope import under

    levels = [Level.county, Level.township, Level.community]
    return [
        (j.id, j.name)
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(levels))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
    ]


@router.post("/areas/doorstep/requests")
def open_request(
    request: Request,
    principal: Doorstep,
    session: SessionDep,
    bus: BusDep,
    kind: Annotated[str, Form(max_length=30)] = "",
    area_id: Annotated[str, Form(max_length=12)] = "",
    detail: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    area = area_id.strip()
    if area and not (area.isdigit() and 1 <= int(area) <= 2**31 - 1):
        raise InvalidInput([RowError(1, "area_id", Message("not a risk area"))])
    service.doorstep.open_request(
        session,
        bus,
        principal,
        kind=kind,
        detail=detail,
        area_id=int(area) if area else None,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/requests/{request_id}/take")
def take_request(request: Request, request_id: RowId, principal: Doorstep, session: SessionDep) -> Response:
    service.doorstep.take(session, principal, request_id, ip=client_ip(request))
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/requests/{request_id}/done")
def complete_request(
    request: Request,
    request_id: RowId,
    principal: Doorstep,
    session: SessionDep,
    outcome: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    service.doorstep.complete(session, principal, request_id, outcome=outcome, ip=client_ip(request))
    return RedirectResponse("/areas/doorstep", status_code=303)


@router.post("/areas/doorstep/departments")
def set_department(
    request: Request,
    principal: Doorstep,
    session: SessionDep,
    jurisdiction_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    name: Annotated[str, Form(max_length=120)] = "",
    open: Annotated[bool, Form()] = False,
    phone: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    service.doorstep.set_emergency_department(
        session,
        principal,
        jurisdiction_id=jurisdiction_id,
        name=name,
        open=open,
        phone=phone,
        ip=client_ip(request),
    )
    return RedirectResponse("/areas/doorstep", status_code=303)


# ------------------------------------------------------------------------------------------ one area


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


# =========================================================================================== public


def _public_language(request: Request, chosen: str | None = None) -> str:
    """``?lang=`` (or a form's ``lang``) if given, else the browser's Accept-Language, else Chinese."""
    asked = chosen if chosen is not None else request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return pick_language(None, request.headers.get("accept-language"))


def _public_context(lang: str) -> dict[str, Any]:
    gettext = translations(lang)
    return {"_": gettext.gettext, "pgettext": gettext.pgettext, "lang": lang, "languages": LANGUAGES}


def render_public_page(page: service.public.PublicPage, lang: str) -> str:
    """The public risk-area page in ``lang`` (rendered once per snapshot and language)."""
    context = _public_context(lang)
    return templates.env.get_template("areas/public.html").render(
        page=page,
        updated=local_time(page.generated_at),
        recent=translations(lang).gettext("Last {days} days").format(days=page.recent_days),
        **context,
    )


def _public_html(template: str, context: dict[str, Any], lang: str, status_code: int = 200) -> HTMLResponse:
    body = templates.env.get_template(template).render(**_public_context(lang), **context)
    return HTMLResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store", "Vary": "Accept-Language"}
    )


def _answer(request: Request, rendered: service.public.Rendered, media_type: str, vary: str = "") -> Response:
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    etag = rendered.gzip_etag if zipped else rendered.etag
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        "Vary": ", ".join(v for v in ("Accept-Encoding", vary) if v),
    }
    match = request.headers.get("if-none-match", "")
    if match and (match.strip() == "*" or etag in {t.strip() for t in match.split(",")}):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(rendered.gzipped, media_type=media_type, headers=headers)
    return Response(rendered.body, media_type=media_type, headers=headers)


@router.get("/public/areas", response_class=HTMLResponse)
async def public_page(request: Request) -> Response:
    """The public list of high and medium areas (HTML, readable on a phone), from the snapshot."""
    lang = _public_language(request)
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.html_for(lang, render_public_page)
    return _answer(request, rendered, "text/html; charset=utf-8", vary="Accept-Language")


@router.get("/public/areas.json")
async def public_feed(request: Request) -> Response:
    """The whole region's high and medium areas, measures and recent changes (no personal data)."""
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    return _answer(request, snapshot.feed, "application/json")


@router.get("/public/areas/{county_code}.json")
async def public_county_feed(request: Request, county_code: str) -> Response:
    """One county's areas and changes; a county with none has no feed (404: all of it is low)."""
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.county_feed(county_code) if county_code.isascii() and county_code.isdigit() else None
    if rendered is None:
        return JSONResponse(
            {"detail": "no high or medium risk areas listed for this county"},
            status_code=404,
            headers={"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"},
        )
    return _answer(request, rendered, "application/json")


# ------------------------------------------------------------------------------ public submissions


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


def _same_origin(request: Request) -> None:
    """Refuse a submission another site's page makes a browser send (its Origin or Fetch-Metadata says
    so). The public forms need no CSRF token: they act for nobody signed in; this keeps other sites
    from spending a visitor's allowance or posting in their name."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        raise Forbidden(Message("submissions from another site are refused"))
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-origin request (curl, an app, an old browser's same-site form)
    host = request.headers.get("host", "")
    if origin == "null" or urlparse(origin).netloc != host:
        raise Forbidden(Message("submissions from another site are refused"))


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_PUBLIC_BODY):
        raise PayloadTooLarge(Message("the submission is larger than {limit} bytes", limit=MAX_PUBLIC_BODY))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PUBLIC_BODY:
            raise PayloadTooLarge(
                Message("the submission is larger than {limit} bytes", limit=MAX_PUBLIC_BODY)
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _fields_of(request: Request, body: bytes, *, json_only: bool) -> dict[str, object]:
    """The submitted fields: a JSON object, or (a form) url-encoded text; anything else is refused."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([RowError(1, "body", Message("not UTF-8 text"))]) from None
    if media == "application/json":
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            raise InvalidInput([RowError(1, "body", Message("not valid JSON"))]) from None
        if not isinstance(data, dict):
            raise InvalidInput([RowError(1, "body", Message("send one JSON object of fields"))])
        return {str(k): v for k, v in data.items()}
    if media == "application/x-www-form-urlencoded" and not json_only:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=40, strict_parsing=False)
        except ValueError:
            raise InvalidInput([RowError(1, "body", Message("too many fields"))]) from None
        fields: dict[str, object] = {}
        for key, value in pairs:
            if key in fields:
                raise InvalidInput([RowError(1, key[:30], Message("given more than once"))])
            fields[key] = value
        return fields
    raise UnsupportedMediaType(
        Message("send the fields as {kinds}", kinds="application/json" if json_only else "a form or JSON")
    )


@dataclass(frozen=True)
class Submission:
    """A public submission that passed the checks made before the database: its fields and address."""

    fields: dict[str, object]
    ip: str


async def public_arrival_submission(request: Request) -> Submission:
    """Origin, the address's allowance (counted before anything is read: floods are refused unread),
    the size and the shape of a public arrival report. No database: it runs on the event loop."""
    _same_origin(request)
    ip = client_ip(request)
    service.arrivals.PUBLIC_LIMITER.check(ip)
    body = await _bounded_body(request)
    return Submission(_fields_of(request, body, json_only=request.url.path.startswith("/public/api/")), ip)


async def public_form_submission(request: Request) -> Submission:
    """The subscription forms: origin, size and shape (their allowance is the service's, per attempt)."""
    _same_origin(request)
    body = await _bounded_body(request)
    return Submission(_fields_of(request, body, json_only=False), client_ip(request))


ArrivalSubmission = Annotated[Submission, Depends(public_arrival_submission)]
FormSubmission = Annotated[Submission, Depends(public_form_submission)]
# The allowance was counted before the body was read (``public_arrival_submission``); the service is
# handed a limiter that lets the same submission through instead of counting it twice.
_COUNTED_ALREADY = service.arrivals.SubmissionLimiter(limit=2**62, max_tracked=1)


def _arrival_input(fields: dict[str, object]) -> service.arrivals.ArrivalInput:
    unknown = sorted(k for k in fields if k not in PUBLIC_ARRIVAL_FIELDS and k != "lang")
    if unknown:
        raise InvalidInput(
            [RowError(1, k[:30], Message("not a field of the arrival report")) for k in unknown[:10]]
        )
    return service.arrivals.ArrivalInput(**{k: v for k, v in fields.items() if k in PUBLIC_ARRIVAL_FIELDS})


@dataclass(frozen=True)
class PublicPlaces:
    """What the public forms offer: counties (code, name, city) and communities (code, name, county)."""

    counties: tuple[tuple[str, str, str], ...]
    communities: tuple[tuple[str, str, str], ...]


class _PlacesCache:
    """The public forms' places, read at most once per ``PLACES_MAX_AGE_SECONDS`` per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: PublicPlaces | None = None
        self._loaded_at = float("-inf")

    def get(self, db: Database) -> PublicPlaces:
        with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at >= PLACES_MAX_AGE_SECONDS:
                with db.unit_of_work() as session:
                    self._value = _read_places(session)
                self._loaded_at = time.monotonic()
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


def _read_places(session: Session) -> PublicPlaces:
    parent = aliased(Jurisdiction)
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level, parent.name)
        .outerjoin(parent, parent.id == Jurisdiction.parent_id)
        .where(
            Jurisdiction.level.in_([Level.county, Level.community]),
            Jurisdiction.is_sandbox.is_(False),
        )
        .order_by(Jurisdiction.path)
    ).all()
    counties = tuple((c, n, p or "") for c, n, lv, p in rows if lv == Level.county)
    communities = tuple((c, n, p or "") for c, n, lv, p in rows if lv == Level.community)
    return PublicPlaces(counties, communities)


PLACES = _PlacesCache()


def _arrival_form(
    request: Request, lang: str, form: dict[str, object], errors: list[RowError], status: int
) -> HTMLResponse:
    shown: dict[str, list[str]] = {}
    for error in errors:
        shown.setdefault(error.field, []).append(render_text(error.text, lang))
    places = PLACES.get(request.app.state.db)
    return _public_html(
        "areas/public_arrival.html",
        {
            "form": form,
            "errors": shown,
            "places": places,
            "receipt": None,
            "max_day": clock.today() + dt.timedelta(days=3),
        },
        lang,
        status,
    )


@router.get("/public/arrivals", response_class=HTMLResponse)
def public_arrival_form(request: Request) -> Response:
    """The arrival form (报备): who, from where (down to the risk-area unit), when, where staying."""
    return _arrival_form(request, _public_language(request), {}, [], 200)


@router.post("/public/arrivals", response_class=HTMLResponse)
def public_arrival_submit(
    request: Request, submission: ArrivalSubmission, session: SessionDep, vault: VaultDep, bus: BusDep
) -> Response:
    """The form's submission: the receipt (registered, category, measure), or the form with each field's
    problem beside it and nothing written."""
    lang_field = submission.fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    kept: dict[str, object] = {
        k: v for k, v in submission.fields.items() if k in PUBLIC_ARRIVAL_FIELDS and isinstance(v, str)
    }
    try:
        receipt = service.arrivals.register_arrival(
            session,
            vault,
            bus,
            _arrival_input(submission.fields),
            channel="form",
            reporter="public",
            ip=submission.ip,
            limiter=_COUNTED_ALREADY,
        )
    except InvalidInput as exc:
        return _arrival_form(request, lang, kept, exc.errors, 422)
    answer = receipt.public_answer(lang)
    return _public_html(
        "areas/public_arrival.html", {"receipt": answer, "form": {}, "errors": {}, "places": None}, lang
    )


@router.post("/public/api/arrivals")
def public_arrival_api(
    request: Request, submission: ArrivalSubmission, session: SessionDep, vault: VaultDep, bus: BusDep
) -> JSONResponse:
    """The arrival report as JSON: 201 with only what this report says (registered, category,
    measure); 422 naming each field in error, nothing written; 429 past the address's allowance."""
    receipt = service.arrivals.register_arrival(
        session,
        vault,
        bus,
        _arrival_input(submission.fields),
        channel="api",
        reporter="public",
        ip=submission.ip,
        limiter=_COUNTED_ALREADY,
    )
    return JSONResponse(receipt.public_answer(_public_language(request)), status_code=201)


@router.get("/public/areas/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, county: Annotated[str, Query(max_length=12)] = "") -> Response:
    """Follow one district's changes by e-mail."""
    lang = _public_language(request)
    places = PLACES.get(request.app.state.db)
    return _public_html(
        "areas/public_subscribe.html", {"places": places, "county": county, "errors": [], "done": None}, lang
    )


@router.post("/public/areas/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, submission: FormSubmission, session: SessionDep, vault: VaultDep) -> Response:
    """The confirmation (with the link that stops it, for a new subscription), or the form with its
    problems; a repeat merges without giving away the existing subscription's token."""
    fields = submission.fields
    lang_field = fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    county, contact = fields.get("county_code"), fields.get("contact")
    try:
        done = service.public.subscribe(session, vault, county, contact, ip=submission.ip)
    except InvalidInput as exc:
        places = PLACES.get(request.app.state.db)
        return _public_html(
            "areas/public_subscribe.html",
            {
                "places": places,
                "county": county if isinstance(county, str) else "",
                "errors": exc.errors,
                "done": None,
            },
            lang,
            422,
        )
    return _public_html(
        "areas/public_subscribe.html", {"places": None, "county": "", "errors": [], "done": done}, lang
    )


@router.get("/public/areas/unsubscribe", response_class=HTMLResponse)
def unsubscribe_confirm(request: Request, token: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Asks before stopping (a link checker or a mail scanner following the link stops nothing)."""
    return _public_html(
        "areas/public_unsubscribe.html", {"token": token, "done": None}, _public_language(request)
    )


@router.post("/public/areas/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, submission: FormSubmission, session: SessionDep) -> Response:
    lang_field = submission.fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    try:
        code = service.public.unsubscribe(session, submission.fields.get("token"), ip=submission.ip)
    except NotFound:
        return _public_html(
            "areas/public_unsubscribe.html", {"token": "", "done": None, "missing": True}, lang, 404
        )
    return _public_html("areas/public_unsubscribe.html", {"token": "", "done": code}, lang)
