"""Web pages of the tracing capability: cases, contacts, chains and clusters, assist requests, import/export.

Lists are paged and filtered on the server; the line-list entry on a case page posts one exposure at a
time with htmx and redraws only the contact table, so entry keeps pace with a phone call.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock, people
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, SettingsDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message, render_text
from fangkong.core.idnumber import InvalidIdNumber, validate_id_number
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.tracing import assist, clusters, imports, persons, service, sourcing, spreadsheets
from fangkong.tracing.models import (
    AssistStatus,
    Certainty,
    Classification,
    ContactCategory,
    ContactStatus,
    Outcome,
    PlaceKind,
)
from fangkong.tracing.rules import SETTINGS, RuleError, clamp_day, parse_setting, parse_wall_time
from fangkong.tracing.schemas import MAX_ID
from fangkong.web.errors import shown_errors
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.cases_read, "/tracing", "Tracing"),
    (Permission.cases_read, "/tracing/cases", "Cases"),
    (Permission.cases_read, "/tracing/contacts", "Contacts"),
    (Permission.assist_manage, "/tracing/assist", "Assist requests"),
]

Reader = Annotated[Principal, Depends(Require(Permission.cases_read))]
Writer = Annotated[Principal, Depends(Require(Permission.cases_write))]
Assistant = Annotated[Principal, Depends(Require(Permission.assist_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE_SIZE = 50


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: DomainError, request: Request) -> list[str]:
    """The error's messages for a page drawn without htmx, each naming its field by its label."""
    language = language_of(request)
    if isinstance(exc, InvalidInput):
        return [
            f"{e.label}{render_text(': ', language)}{e.text}" if e.label else e.text
            for e in shown_errors(exc.errors, language, file=exc.file)
        ]
    return [render_text(exc.text, language)]


def _optional_date(text: str, field: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, field, Message("“{value}” is not a date (write it as 2022-07-01)", value=text))]
        ) from None


def _optional_time(text: str, field: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        return parse_wall_time(text.replace("T", " ")).at
    except RuleError as exc:
        raise InvalidInput([RowError(1, field, exc.text)]) from None


def _id_or_none(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


def _optional_number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))]) from None


# ------------------------------------------------------------------------------------------ overview


@router.get("/tracing", response_class=HTMLResponse)
def tracing_home(
    request: Request,
    principal: Reader,
    session: SessionDep,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    until = clamp_day(until or clock.today())
    since = clamp_day(since or until - dt.timedelta(days=27))
    kpis = clusters.kpis(session, principal, min(since, until), until)
    rows, total = clusters.list_clusters(session, principal, page=1, size=10)
    return render(
        request,
        "tracing/home.html",
        {"k": kpis, "clusters": rows, "cluster_total": total, "since": since, "until": until},
        principal=principal,
    )


# ------------------------------------------------------------------------------------------ cases


@router.get("/tracing/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    classification: Classification | None = None,
    q: Annotated[str, Query(max_length=40)] = "",
    no_source: bool = False,
    cluster_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: PageNo = 1,
) -> Response:
    filters = service.CaseFilter(
        classification=classification, q=q, no_source=no_source, cluster_id=cluster_id
    )
    result = service.list_cases(session, principal, filters, page, PAGE_SIZE)
    context = {
        "result": result,
        "filters": filters,
        "classifications": [c.value for c in Classification],
        "query": _query(
            {
                "classification": classification.value if classification else "",
                "q": q,
                "no_source": "true" if no_source else "",
                "cluster_id": cluster_id or "",
            }
        ),
        "communities": [] if _htmx(request) else _communities(session, principal),
    }
    template = "tracing/cases_table.html" if _htmx(request) else "tracing/cases.html"
    return render(request, template, context, principal=principal)


def _communities(session: SessionDep, principal: Principal) -> list[service.PlaceGroup]:
    """The community picker's choices, for those who enter people."""
    if not principal.can(Permission.cases_write) and not principal.can(Permission.assist_manage):
        return []
    return service.community_choices(session, principal)


def _query(values: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@router.post("/tracing/cases", response_class=HTMLResponse)
def create_case(
    request: Request,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    classification: Annotated[Classification, Form()],
    case_ref: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=50)] = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    community_code: Annotated[str, Form(max_length=12)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    onset_date: Annotated[str, Form(max_length=10)] = "",
    sampling_date: Annotated[str, Form(max_length=10)] = "",
    diagnosis_date: Annotated[str, Form(max_length=10)] = "",
    isolated_at: Annotated[str, Form(max_length=20)] = "",
    imported: Annotated[bool, Form()] = False,
) -> Response:
    try:
        data = service.CaseInput(
            classification=classification,
            person=persons.PersonInput(
                name=name,
                id_number=id_number,
                phone=phone,
                community_code=community_code,
                address=address,
                label=case_ref,
            ),
            case_ref=case_ref.strip(),
            onset_date=_optional_date(onset_date, "onset_date"),
            sampling_date=_optional_date(sampling_date, "sampling_date"),
            diagnosis_date=_optional_date(diagnosis_date, "diagnosis_date"),
            isolated_at=_optional_time(isolated_at, "isolated_at"),
            imported=imported,
        )
        case = service.register_case(session, vault, bus, principal, data, ip=client_ip(request))
    except DomainError as exc:
        if _htmx(request):
            raise  # the error handler answers htmx: each message beside its field, the input kept
        session.rollback()
        result = service.list_cases(session, principal, service.CaseFilter(), 1, PAGE_SIZE)
        context = {
            "result": result,
            "filters": service.CaseFilter(),
            "query": "",
            "errors": _errors(exc, request),
            "classifications": [c.value for c in Classification],
            "form": _form_values(locals()),
            "communities": _communities(session, principal),
        }
        return render(request, "tracing/cases.html", context, principal=principal, status_code=422)
    return RedirectResponse(f"/tracing/cases/{case.id}", status_code=303)


def _form_values(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted form's values, to fill the form again after an error."""
    names = (
        "case_ref",
        "name",
        "id_number",
        "phone",
        "community_code",
        "address",
        "onset_date",
        "sampling_date",
        "diagnosis_date",
        "isolated_at",
    )
    return {k: values.get(k, "") for k in names}


def _case_context(session: SessionDep, principal: Principal, case_id: int) -> dict[str, Any]:
    detail = service.case_detail(session, principal, case_id)
    return {
        "d": detail,
        "case": detail.case,
        "settings": SETTINGS,
        "classifications": [c.value for c in Classification],
        "outcomes": [o.value for o in Outcome],
        "certainties": [c.value for c in Certainty],
        "place_kinds": [k.value for k in PlaceKind],
        "errors": [],
        "communities": _communities(session, principal),
        "counties": service.county_choices(session, principal)
        if principal.can(Permission.cases_write)
        else [],
    }


@router.get("/tracing/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, principal: Reader, session: SessionDep) -> Response:
    return render(
        request, "tracing/case.html", _case_context(session, principal, case_id), principal=principal
    )


@router.post("/tracing/cases/{case_id}/exposures", response_class=HTMLResponse)
def case_add_exposure(
    request: Request,
    case_id: ItemId,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    setting: Annotated[str, Form(max_length=30)],
    start: Annotated[str, Form(max_length=20)],
    end: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=50)] = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    community_code: Annotated[str, Form(max_length=12)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    residence_code: Annotated[str, Form(max_length=12)] = "",
    contact_case_ref: Annotated[str, Form(max_length=40)] = "",
    via_contact_id: Annotated[str, Form(max_length=12)] = "",
    protected: Annotated[bool, Form()] = False,
    distance_m: Annotated[str, Form(max_length=10)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    person_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """One line of the line list; answers with the refreshed contacts (htmx) or the case page.

    ``person_id`` is a resident the investigator picked after looking their ID number up (see
    ``resident_lookup``); the typed fields then only describe them.
    """
    errors: list[str] = []
    try:
        when = _optional_time(start, "start")
        if when is None:
            raise InvalidInput([RowError(1, "start", "is required")])
        other = (
            service.case_by_ref(session, principal, contact_case_ref).id if contact_case_ref.strip() else None
        )
        line = service.ExposureInput(
            setting=parse_setting(setting),
            start=when,
            end=_optional_time(end, "end"),
            person=None
            if other
            else persons.PersonInput(
                name=name,
                id_number=id_number,
                phone=phone,
                community_code=community_code,
                address=address,
                residence_code=residence_code,
                person_id=_id_or_none(person_id),
            ),
            contact_case_id=other,
            via_contact_id=_id_or_none(via_contact_id),
            protected=protected,
            distance_m=_optional_number(distance_m, "distance_m"),
            place=place,
        )
        service.add_exposures(session, vault, bus, principal, case_id, [line], ip=client_ip(request))
    except RuleError as exc:
        if _htmx(request):
            raise InvalidInput([RowError(1, "setting", exc.text)]) from None
        session.rollback()
        errors = _errors(InvalidInput([RowError(1, "setting", exc.text)]), request)
    except DomainError as exc:
        if _htmx(request):
            raise
        session.rollback()
        errors = _errors(exc, request)
    context = _case_context(session, principal, case_id)
    context["errors"] = errors
    if _htmx(request):
        # The contact table, plus (out of band) the "via close contact" choices, which a new close
        # contact joins; the chain on the page redraws when it hears "tracing-changed".
        context["oob"] = True
        response = render(request, "tracing/case_contacts.html", context, principal=principal)
        response.headers["HX-Trigger"] = "tracing-changed"
        return response
    if errors:
        return render(request, "tracing/case.html", context, principal=principal, status_code=422)
    return RedirectResponse(f"/tracing/cases/{case_id}", status_code=303)


@router.get("/tracing/residents/lookup", response_class=HTMLResponse)
def resident_lookup(
    request: Request,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    id_number: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The resident with this full ID number in the caller's jurisdiction, masked, to pick on a form."""
    typed = persons.norm(id_number).upper()
    context: dict[str, Any] = {"typed": typed, "resident": None, "problem": None}
    if len(typed) == 18:
        try:
            validate_id_number(typed)
        except InvalidIdNumber:
            context["problem"] = True
        else:
            found = people.search(session, vault, principal, typed, size=1)
            context["resident"] = found.items[0] if found.items else None
    return render(request, "tracing/_resident.html", context, principal=principal)


@router.post("/tracing/cases/{case_id}/visits", response_class=HTMLResponse)
def case_add_visit(
    request: Request,
    case_id: ItemId,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    kind: Annotated[PlaceKind, Form()],
    start: Annotated[str, Form(max_length=20)],
    place_name: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    transport_no: Annotated[str, Form(max_length=40)] = "",
    carriage: Annotated[str, Form(max_length=10)] = "",
    seat: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    when = _optional_time(start, "start")
    if when is None:
        raise InvalidInput([RowError(1, "start", "is required")])
    visit = service.VisitInput(
        kind=kind,
        place_name=place_name,
        start=when,
        end=_optional_time(end, "end"),
        address=address,
        transport_no=transport_no,
        carriage=carriage,
        seat=seat,
    )
    service.add_visits(session, bus, principal, case_id, [visit], ip=client_ip(request))
    return RedirectResponse(f"/tracing/cases/{case_id}#visits", status_code=303)


@router.post("/tracing/cases/{case_id}/reclassify", response_class=HTMLResponse)
def case_reclassify(
    request: Request,
    case_id: ItemId,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    classification: Annotated[Classification, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=300)],
) -> Response:
    service.reclassify_case(session, bus, principal, case_id, classification, reason, ip=client_ip(request))
    return RedirectResponse(f"/tracing/cases/{case_id}", status_code=303)


@router.post("/tracing/cases/{case_id}/update", response_class=HTMLResponse)
def case_update(
    request: Request,
    case_id: ItemId,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    onset_date: Annotated[str, Form(max_length=10)] = "",
    sampling_date: Annotated[str, Form(max_length=10)] = "",
    diagnosis_date: Annotated[str, Form(max_length=10)] = "",
    isolated_at: Annotated[str, Form(max_length=20)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    outcome_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    change = service.CaseUpdate(
        onset_date=_optional_date(onset_date, "onset_date"),
        sampling_date=_optional_date(sampling_date, "sampling_date"),
        diagnosis_date=_optional_date(diagnosis_date, "diagnosis_date"),
        isolated_at=_optional_time(isolated_at, "isolated_at"),
        outcome=Outcome(outcome) if outcome else None,
        outcome_date=_optional_date(outcome_date, "outcome_date"),
    )
    service.update_case(session, bus, principal, case_id, change, ip=client_ip(request))
    return RedirectResponse(f"/tracing/cases/{case_id}", status_code=303)


@router.post("/tracing/cases/{case_id}/links", response_class=HTMLResponse)
def case_add_link(
    request: Request,
    case_id: ItemId,
    principal: Writer,
    session: SessionDep,
    infector_ref: Annotated[str, Form(min_length=1, max_length=40)],
    certainty: Annotated[Certainty, Form()] = Certainty.probable,
) -> Response:
    service.get_case(session, principal, case_id)
    try:
        infector = service.case_by_ref(session, principal, infector_ref)
    except NotFound:
        # A mistyped number is a bad value of this field, said beside it (not a page that is not there).
        words = Message("no case numbered “{ref}” in your jurisdiction", ref=infector_ref.strip())
        raise InvalidInput([RowError(1, "infector_ref", words)]) from None
    service.add_link(session, principal, infector.id, case_id, certainty, ip=client_ip(request))
    return RedirectResponse(f"/tracing/cases/{case_id}#chain", status_code=303)


@router.get("/tracing/cases/{case_id}/sources", response_class=HTMLResponse)
def case_sources(request: Request, case_id: int, principal: Reader, session: SessionDep) -> Response:
    """Ranked candidate infectors (loaded into the case page with htmx)."""
    report = sourcing.source_candidates(session, principal, case_id)
    return render(
        request, "tracing/sources.html", {"report": report, "case_id": case_id}, principal=principal
    )


# ------------------------------------------------------------------------------------------ contacts


@router.get("/tracing/contacts", response_class=HTMLResponse)
def contacts_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    category: ContactCategory | None = None,
    status: Literal["active", "dropped", "converted", "superseded", "all"] = "active",
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    lives_elsewhere: bool | None = None,
    page: PageNo = 1,
) -> Response:
    filters = service.ContactFilter(
        category=category,
        status=None if status == "all" else ContactStatus(status),
        case_id=case_id,
        lives_elsewhere=lives_elsewhere,
    )
    result = service.list_contacts(session, principal, filters, page, PAGE_SIZE)
    context = {
        "result": result,
        "category": category.value if category else "",
        "status": status,
        "categories": [c.value for c in ContactCategory],
        "query": _query(
            {
                "category": category.value if category else "",
                "status": status,
                "case_id": case_id or "",
                "lives_elsewhere": "" if lives_elsewhere is None else str(lives_elsewhere).lower(),
            }
        ),
    }
    template = "tracing/contacts_table.html" if _htmx(request) else "tracing/contacts.html"
    return render(request, template, context, principal=principal)


def _contact_context(session: SessionDep, principal: Principal, contact_id: int) -> dict[str, Any]:
    d = service.contact_detail(session, principal, contact_id)
    return {
        "contact": d.contact,
        "row": d.row,
        "plan": d.plan,
        "protocol": d.protocol,
        "exposures": d.exposures,
        "requests": assist.requests_for_contact(session, principal, d.contact.id),
        "classifications": [c.value for c in Classification],
        "categories": [c.value for c in ContactCategory],
        "describe": _describe_rule,
        "schedule": d.schedule,
        "via_labels": d.via_labels,
        "counties": service.county_choices(session, principal)
        if principal.can(Permission.assist_manage)
        else [],
        # The assist request goes by default to the county where the contact is recorded to live.
        "receiver_default": service.county_code_of(session, d.contact.residence_jurisdiction_id),
    }


def _describe_rule(rule: object) -> Message:
    from fangkong.protocol.plan import rule_message

    return rule_message(rule)  # type: ignore[arg-type]


@router.get("/tracing/contacts/{contact_id}", response_class=HTMLResponse)
def contact_page(request: Request, contact_id: int, principal: Reader, session: SessionDep) -> Response:
    return render(
        request, "tracing/contact.html", _contact_context(session, principal, contact_id), principal=principal
    )


@router.post("/tracing/contacts/{contact_id}/convert", response_class=HTMLResponse)
def contact_convert(
    request: Request,
    contact_id: ItemId,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    classification: Annotated[Classification, Form()],
    sampling_date: Annotated[str, Form(max_length=10)] = "",
    onset_date: Annotated[str, Form(max_length=10)] = "",
    case_ref: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    case = service.convert_contact(
        session,
        bus,
        principal,
        contact_id,
        classification,
        case_ref=case_ref.strip(),
        sampling_date=_optional_date(sampling_date, "sampling_date"),
        onset_date=_optional_date(onset_date, "onset_date"),
        ip=client_ip(request),
    )
    return RedirectResponse(f"/tracing/cases/{case.id}", status_code=303)


@router.post("/tracing/contacts/{contact_id}/override", response_class=HTMLResponse)
def contact_override(
    request: Request,
    contact_id: ItemId,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    category: Annotated[ContactCategory, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    service.override_contact(session, bus, principal, contact_id, category, reason, ip=client_ip(request))
    return RedirectResponse(f"/tracing/contacts/{contact_id}", status_code=303)


@router.post("/tracing/contacts/{contact_id}/assist", response_class=HTMLResponse)
def contact_assist(
    request: Request,
    contact_id: ItemId,
    principal: Assistant,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    receiver_code: Annotated[str, Form(max_length=12)] = "",
    message: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    sent = assist.send(
        session, vault, bus, principal, contact_id, receiver_code, message, ip=client_ip(request)
    )
    return RedirectResponse(f"/tracing/assist/{sent.id}", status_code=303)


# ------------------------------------------------------------------------------------------ clusters


@router.get("/tracing/clusters", response_class=HTMLResponse)
def clusters_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    min_size: Annotated[str, Query(max_length=12)] = "2",
    page: PageNo = 1,
) -> Response:
    # A bad filter is said in the filter form, which keeps what was typed (not an error page instead).
    errors: list[RowError] = []
    size = int(min_size) if min_size.strip().isdigit() else None
    if size is None:
        errors.append(RowError(1, "min_size", Message("“{value}” is not a whole number", value=min_size)))
    elif not 2 <= size <= 100_000:
        limit = 2 if size < 2 else 100_000
        words = "must be at least {limit}" if size < 2 else "must be at most {limit}"
        errors.append(RowError(1, "min_size", Message(words, limit=limit)))
    rows, total = (
        ([], 0)
        if errors
        else clusters.list_clusters(session, principal, min_size=size or 2, page=page, size=PAGE_SIZE)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "tracing/clusters.html",
        {"rows": rows, "total": total, "page": page, "pages": pages, "min_size": min_size, "errors": errors},
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/tracing/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(request: Request, cluster_id: int, principal: Reader, session: SessionDep) -> Response:
    view = clusters.chain_view(session, principal, cluster_id)
    return render(
        request,
        "tracing/cluster.html",
        {"cluster_id": cluster_id, "stats": view["stats"]},
        principal=principal,
    )


# ------------------------------------------------------------------------------------------ assist requests


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
        "communities": _communities(session, principal)
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
        chosen = _id_or_none(person_id)
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


# ------------------------------------------------------------------------------------------ import and export


@router.get("/tracing/import", response_class=HTMLResponse)
def import_page(request: Request, principal: Writer) -> Response:
    return render(
        request,
        "tracing/import.html",
        {"kinds": spreadsheets.KINDS, "report": None, "errors": []},
        principal=principal,
    )


@router.post("/tracing/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[spreadsheets.Kind, Form()],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    from fangkong.tracing.api import save_upload

    errors: list[RowError] = []
    report = None
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp)
        try:
            report = imports.import_file(
                session,
                vault,
                bus,
                principal,
                Keys(settings.encryption_key, settings.hash_key),
                kind,
                path,
                dry_run=dry_run,
            )
        except InvalidInput as exc:
            session.rollback()
            errors = exc.errors
    context = {
        "kinds": spreadsheets.KINDS,
        "report": report,
        "errors": errors,
        "kind": kind,
        "dry_run": dry_run,
    }
    return render(
        request, "tracing/import.html", context, principal=principal, status_code=422 if errors else 200
    )
