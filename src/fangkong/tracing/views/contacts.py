"""Contact pages: the contact list, a contact's page, conversion to a case, overrides and assist requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, SessionDep, VaultDep, client_ip
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.tracing import assist, service
from fangkong.tracing.models import (
    Classification,
    ContactCategory,
    ContactStatus,
)
from fangkong.tracing.schemas import MAX_ID
from fangkong.tracing.views.common import (
    PAGE_SIZE,
    Assistant,
    ItemId,
    PageNo,
    Reader,
    Writer,
    is_htmx,
    optional_date,
    query_string,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


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
        "query": query_string(
            {
                "category": category.value if category else "",
                "status": status,
                "case_id": case_id or "",
                "lives_elsewhere": "" if lives_elsewhere is None else str(lives_elsewhere).lower(),
            }
        ),
    }
    template = "tracing/contacts_table.html" if is_htmx(request) else "tracing/contacts.html"
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
        sampling_date=optional_date(sampling_date, "sampling_date"),
        onset_date=optional_date(onset_date, "onset_date"),
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
