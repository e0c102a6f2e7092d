"""Case pages: the case list and entry, a case's line list of exposures and visits, its links and
sources.

The line-list entry on a case page posts one exposure at a time with htmx and redraws only the contact
table, so entry keeps pace with a phone call.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import people
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, SessionDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, validate_id_number
from fangkong.core.permissions import Permission
from fangkong.tracing import persons, service, sourcing
from fangkong.tracing.models import (
    Certainty,
    Classification,
    Outcome,
    PlaceKind,
)
from fangkong.tracing.rules import SETTINGS, RuleError, parse_setting
from fangkong.tracing.schemas import MAX_ID
from fangkong.tracing.views.common import (
    PAGE_SIZE,
    ItemId,
    PageNo,
    Reader,
    Writer,
    error_texts,
    id_or_none,
    is_htmx,
    optional_date,
    optional_number,
    optional_time,
    picker_communities,
    query_string,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


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
        "query": query_string(
            {
                "classification": classification.value if classification else "",
                "q": q,
                "no_source": "true" if no_source else "",
                "cluster_id": cluster_id or "",
            }
        ),
        "communities": [] if is_htmx(request) else picker_communities(session, principal),
    }
    template = "tracing/cases_table.html" if is_htmx(request) else "tracing/cases.html"
    return render(request, template, context, principal=principal)


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
            onset_date=optional_date(onset_date, "onset_date"),
            sampling_date=optional_date(sampling_date, "sampling_date"),
            diagnosis_date=optional_date(diagnosis_date, "diagnosis_date"),
            isolated_at=optional_time(isolated_at, "isolated_at"),
            imported=imported,
        )
        case = service.register_case(session, vault, bus, principal, data, ip=client_ip(request))
    except DomainError as exc:
        if is_htmx(request):
            raise  # the error handler answers htmx: each message beside its field, the input kept
        session.rollback()
        result = service.list_cases(session, principal, service.CaseFilter(), 1, PAGE_SIZE)
        context = {
            "result": result,
            "filters": service.CaseFilter(),
            "query": "",
            "errors": error_texts(exc, request),
            "classifications": [c.value for c in Classification],
            "form": _form_values(locals()),
            "communities": picker_communities(session, principal),
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
        "communities": picker_communities(session, principal),
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
        when = optional_time(start, "start")
        if when is None:
            raise InvalidInput([RowError(1, "start", "is required")])
        other = (
            service.case_by_ref(session, principal, contact_case_ref).id if contact_case_ref.strip() else None
        )
        line = service.ExposureInput(
            setting=parse_setting(setting),
            start=when,
            end=optional_time(end, "end"),
            person=None
            if other
            else persons.PersonInput(
                name=name,
                id_number=id_number,
                phone=phone,
                community_code=community_code,
                address=address,
                residence_code=residence_code,
                person_id=id_or_none(person_id),
            ),
            contact_case_id=other,
            via_contact_id=id_or_none(via_contact_id),
            protected=protected,
            distance_m=optional_number(distance_m, "distance_m"),
            place=place,
        )
        service.add_exposures(session, vault, bus, principal, case_id, [line], ip=client_ip(request))
    except RuleError as exc:
        if is_htmx(request):
            raise InvalidInput([RowError(1, "setting", exc.text)]) from None
        session.rollback()
        errors = error_texts(InvalidInput([RowError(1, "setting", exc.text)]), request)
    except DomainError as exc:
        if is_htmx(request):
            raise
        session.rollback()
        errors = error_texts(exc, request)
    context = _case_context(session, principal, case_id)
    context["errors"] = errors
    if is_htmx(request):
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
    when = optional_time(start, "start")
    if when is None:
        raise InvalidInput([RowError(1, "start", "is required")])
    visit = service.VisitInput(
        kind=kind,
        place_name=place_name,
        start=when,
        end=optional_time(end, "end"),
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
        onset_date=optional_date(onset_date, "onset_date"),
        sampling_date=optional_date(sampling_date, "sampling_date"),
        diagnosis_date=optional_date(diagnosis_date, "diagnosis_date"),
        isolated_at=optional_time(isolated_at, "isolated_at"),
        outcome=Outcome(outcome) if outcome else None,
        outcome_date=optional_date(outcome_date, "outcome_date"),
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
