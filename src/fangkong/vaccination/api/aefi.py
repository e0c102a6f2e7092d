"""JSON routes of adverse events following immunization: report a card, send it to the county CDC,
record the WHO causality review, list cards, rates per 100,000 doses with lot signals, cards past due.
Thin: parse, call ``service.aefi``, shape.

Reading needs ``vaccination.read``; reporting and sending ``aefi.report`` (community workers at the
sites); the causality review ``aefi.review`` (command centre, surveillance analysts).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.vaccination.models import AdverseEvent, Severity
from fangkong.vaccination.schemas.aefi import (
    AefiCreate,
    AefiPagePublic,
    AefiPublic,
    RatePublic,
    RatesPublic,
    ReviewCreate,
    SignalPublic,
)
from fangkong.vaccination.service import aefi

router = APIRouter(prefix="/api/vaccination", tags=["vaccination"])

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Reporter = Annotated[Principal, Depends(Require(Permission.aefi_report))]
Reviewer = Annotated[Principal, Depends(Require(Permission.aefi_review))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
Text = Annotated[str | None, Query(min_length=1, max_length=60)]


def public(event: AdverseEvent) -> AefiPublic:
    return AefiPublic.model_validate(
        {
            **{c.key: getattr(event, c.key) for c in AdverseEvent.__table__.columns},
            "deadline": aefi.deadline_of(event),
        }
    )


@router.post("/aefi", response_model=AefiPublic, status_code=201)
def report(
    body: AefiCreate, principal: Reporter, session: SessionDep, bus: BusDep, request: Request
) -> AefiPublic:
    """Fill in an AEFI card for a dose: due at the county CDC within 48 h, 2 h for a death or a cluster."""
    found_at = clock.from_local(body.found_at) if body.found_at is not None else None
    event = aefi.report(
        session,
        principal,
        bus,
        body.dose_id,
        body.onset_on,
        body.symptoms,
        body.severity,
        body.outcome,
        body.cluster,
        found_at=found_at,
        ip=client_ip(request),
    )
    return public(event)


@router.get("/aefi", response_model=AefiPagePublic)
def list_events(
    principal: Reader,
    session: SessionDep,
    state: Annotated[str | None, Query(pattern="^(unsent|overdue|sent|unreviewed|reviewed)$")] = None,
    product: Text = None,
    lot: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    severity: Severity | None = None,
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=aefi.MAX_PAGE_SIZE)] = 50,
) -> AefiPagePublic:
    """Cards in your area: unsent first by deadline, then the newest."""
    found = aefi.list_events(
        session, principal, state=state, product=product, lot=lot, severity=severity, page=page, size=size
    )
    return AefiPagePublic(
        items=[public(e) for e in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


@router.get("/aefi/rates", response_model=RatesPublic)
def rates(principal: Reader, session: SessionDep) -> RatesPublic:
    """Events per 100,000 doses by product and by lot, and each lot tested against its product's others."""
    found = aefi.rates(session, principal)
    return RatesPublic(
        products=[RatePublic.model_validate(r) for r in found.products],
        lots=[RatePublic.model_validate(r) for r in found.lots],
        signals=[SignalPublic.model_validate(s) for s in aefi.lot_signals(session, principal)],
    )


@router.get("/aefi/overdue", response_model=list[AefiPublic])
def overdue(principal: Reader, session: SessionDep, day: dt.date | None = None) -> list[AefiPublic]:
    """Cards in your area not sent and past their deadline (now, or by the end of ``day``)."""
    return [public(e) for e in aefi.overdue(session, day, jpath=principal.jpath)]


@router.get("/aefi/{aefi_id}", response_model=AefiPublic)
def get_event(aefi_id: RowId, principal: Reader, session: SessionDep) -> AefiPublic:
    return public(aefi.get_event(session, principal, aefi_id))


@router.post("/aefi/{aefi_id}/send", response_model=AefiPublic)
def send(
    aefi_id: RowId, principal: Reporter, session: SessionDep, bus: BusDep, request: Request
) -> AefiPublic:
    """The card reached the county CDC (closes the reporting task)."""
    return public(aefi.send_to_county(session, principal, bus, aefi_id, ip=client_ip(request)))


@router.post("/aefi/{aefi_id}/review", response_model=AefiPublic)
def review(
    aefi_id: RowId, body: ReviewCreate, principal: Reviewer, session: SessionDep, request: Request
) -> AefiPublic:
    """Record the WHO causality category (A1–A4, B1, B2, C, unclassifiable) after review."""
    return public(aefi.review(session, principal, aefi_id, body.causality, ip=client_ip(request)))
