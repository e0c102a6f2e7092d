"""Web pages of adverse events following immunization: the list of cards (unsent first by deadline,
filters, pages), the report card, a card with its deadline, sending and the WHO causality review, and
the rates per 100,000 doses by product and lot with the lot signals. They only shape what
``service.aefi`` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.vaccination.models import AefiOutcome, Causality, Severity
from fangkong.vaccination.rules import aefi as rules
from fangkong.vaccination.service import aefi
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.vaccination_read, "/vaccination/aefi", "Adverse events")
]

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Reporter = Annotated[Principal, Depends(Require(Permission.aefi_report))]
Reviewer = Annotated[Principal, Depends(Require(Permission.aefi_review))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PAGE_SIZE = 50

# WHO 2018 (rules.aefi): the categories as the review form and the card name them.
CAUSALITY_WORDS: dict[Causality, Message] = {
    Causality.a1: Message("A1 vaccine product-related reaction"),
    Causality.a2: Message("A2 vaccine quality defect-related reaction"),
    Causality.a3: Message("A3 immunization error-related reaction"),
    Causality.a4: Message("A4 immunization anxiety-related reaction"),
    Causality.b1: Message("B1 indeterminate: consistent timing, insufficient evidence"),
    Causality.b2: Message("B2 indeterminate: conflicting factors"),
    Causality.c: Message("C coincidental"),
    Causality.unclassifiable: Message("Unclassifiable"),
}


def _choice(field: str, value: str) -> RowError:
    return RowError(1, field, Message("“{value}” is not one of the choices", value=value[:20]))


@router.get("/vaccination/aefi", response_class=HTMLResponse)
def list_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    state: Annotated[str, Query(max_length=12)] = "",
    severity: Annotated[str, Query(max_length=12)] = "",
    product: Annotated[str, Query(max_length=60)] = "",
    lot: Annotated[str, Query(max_length=40)] = "",
    page: PageNo = 1,
) -> Response:
    """Cards in your area: unsent first by deadline, each with the time left or how late."""
    errors: list[RowError] = []
    if state and state not in aefi.FILTERS:
        errors.append(_choice("state", state))
    if severity and severity not in Severity.__members__:
        errors.append(_choice("severity", severity))
    if errors:
        found = aefi.EventPage([], 0, 1, PAGE_SIZE)
    else:
        found = aefi.list_events(
            session,
            principal,
            state=state or None,
            severity=Severity(severity) if severity else None,
            product=product or None,
            lot=lot or None,
            page=page,
            size=PAGE_SIZE,
        )
    now = clock.utcnow()
    products, lots = aefi.products_and_lots(session, principal)
    return render(
        request,
        "vaccination/aefi.html",
        {
            "found": found,
            "rows": [(e, aefi.deadline_of(e, now)) for e in found.items],
            "state": state,
            "severity": severity,
            "product": product,
            "lot": lot,
            "states": aefi.FILTERS,
            "severities": [s.value for s in Severity],
            "products": products,
            "lots": lots,
            "errors": errors,
            "can_report": principal.can(Permission.aefi_report),
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/vaccination/aefi/new", response_class=HTMLResponse)
def report_form(request: Request, principal: Reporter) -> Response:
    """The AEFI report card."""
    return render(
        request,
        "vaccination/aefi_new.html",
        {
            "severities": [s.value for s in Severity],
            "outcomes": [o.value for o in AefiOutcome],
            "today": clock.today(),
            "now": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
        },
        principal=principal,
    )


def _date(field: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            [
                RowError(
                    1, field, Message("“{value}” is not a date (write it as 2022-07-01)", value=value[:20])
                )
            ]
        ) from None


@router.post("/vaccination/aefi")
def report(
    request: Request,
    principal: Reporter,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    id_number: Annotated[str, Form(max_length=30)],
    dose_number: Annotated[int, Form(ge=1, le=20)],
    onset_on: Annotated[str, Form(max_length=10)],
    symptoms: Annotated[str, Form(max_length=2000)],
    severity: Annotated[str, Form(max_length=12)],
    outcome: Annotated[str, Form(max_length=12)],
    found_at: Annotated[str, Form(max_length=16)] = "",
    cluster: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    errors = []
    if severity not in Severity.__members__:
        errors.append(_choice("severity", severity))
    if outcome not in AefiOutcome.__members__:
        errors.append(_choice("outcome", outcome))
    found: dt.datetime | None = None
    if found_at:
        try:
            found = clock.from_local(dt.datetime.fromisoformat(found_at))
        except ValueError:
            errors.append(RowError(1, "found_at", Message("“{value}” is not a time", value=found_at[:16])))
    if errors:
        raise InvalidInput(errors)
    dose = aefi.find_dose(session, vault, principal, id_number, dose_number)
    event = aefi.report(
        session,
        principal,
        bus,
        dose.id,
        _date("onset_on", onset_on),
        symptoms,
        Severity(severity),
        AefiOutcome(outcome),
        cluster == "yes",
        found_at=found,
        ip=client_ip(request),
    )
    return RedirectResponse(f"/vaccination/aefi/{event.id}", status_code=303)


@router.get("/vaccination/aefi/rates", response_class=HTMLResponse)
def rates_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    """Events per 100,000 doses by product and by lot, and the lots that stand out."""
    return render(
        request,
        "vaccination/aefi_rates.html",
        {
            "rates": aefi.rates(session, principal),
            "signals": aefi.lot_signals(session, principal),
            "signal_p": rules.SIGNAL_P,
            "signal_min": rules.SIGNAL_MIN_EVENTS,
        },
        principal=principal,
    )


@router.get("/vaccination/aefi/{aefi_id}", response_class=HTMLResponse)
def card_page(request: Request, aefi_id: RowId, principal: Reader, session: SessionDep) -> Response:
    """A card: the dose and lot, onset, symptoms, severity, outcome, the deadline and the review."""
    event = aefi.get_event(session, principal, aefi_id)
    now = clock.utcnow()
    left = event.report_due_at - now
    minutes = int(abs(left).total_seconds() // 60)
    return render(
        request,
        "vaccination/aefi_card.html",
        {
            "event": event,
            "deadline": aefi.deadline_of(event, now),
            "hours": minutes // 60,
            "minutes": minutes % 60,
            "urgent": rules.is_urgent(event.severity, event.outcome, event.cluster),
            "causality_words": CAUSALITY_WORDS,
            "can_report": principal.can(Permission.aefi_report),
            "can_review": principal.can(Permission.aefi_review),
        },
        principal=principal,
    )


@router.post("/vaccination/aefi/{aefi_id}/send")
def send(request: Request, aefi_id: RowId, principal: Reporter, session: SessionDep, bus: BusDep) -> Response:
    aefi.send_to_county(session, principal, bus, aefi_id, ip=client_ip(request))
    return RedirectResponse(f"/vaccination/aefi/{aefi_id}", status_code=303)


@router.post("/vaccination/aefi/{aefi_id}/review")
def review(
    request: Request,
    aefi_id: RowId,
    principal: Reviewer,
    session: SessionDep,
    causality: Annotated[str, Form(max_length=20)],
) -> Response:
    if causality not in Causality.__members__:
        raise InvalidInput([_choice("causality", causality)])
    aefi.review(session, principal, aefi_id, Causality(causality), ip=client_ip(request))
    return RedirectResponse(f"/vaccination/aefi/{aefi_id}", status_code=303)
