"""Visits: the places and time slots of a case's account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import from_local
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.events import EventBus
from fangkong.tracing.models import (
    PlaceKind,
    Visit,
)
from fangkong.tracing.rules import (
    place_key,
    time_problem,
)
from fangkong.tracing.service.progress import publish_investigated
from fangkong.tracing.service.reads import actor, get_case


@dataclass(frozen=True)
class VisitInput:
    kind: PlaceKind
    place_name: str
    start: dt.datetime  # local wall-clock time
    end: dt.datetime | None = None
    address: str = ""
    transport_no: str = ""
    carriage: str = ""
    seat: str = ""
    note: str = ""


def add_visits(
    session: Session,
    bus: EventBus,
    principal: Principal,
    case_id: int,
    visits: Sequence[VisitInput],
    *,
    ip: str = "",
) -> list[Visit]:
    """Record places and time slots of a case's account; publishes ``CaseInvestigated`` when any."""
    case = get_case(session, principal, case_id)
    errors: list[RowError] = []
    for row, visit in enumerate(visits, start=1):
        for name, moment in (("start", visit.start), ("end", visit.end)):
            problem = time_problem(moment) if moment is not None else None
            if problem:
                errors.append(RowError(row, name, problem))
        if not visit.place_name.strip() and not visit.transport_no.strip():
            errors.append(RowError(row, "place_name", "name the place or the vehicle"))
        if visit.end is not None and visit.end < visit.start:
            errors.append(RowError(row, "end", "ends before it starts"))
    if errors:
        raise InvalidInput(errors)
    rows = [
        Visit(
            case_id=case.id,
            jpath=case.jpath,
            kind=v.kind,
            place_name=(v.place_name or v.transport_no).strip()[:200],
            address=v.address.strip()[:200] or None,
            transport_no=v.transport_no.strip()[:40] or None,
            carriage=v.carriage.strip()[:10] or None,
            seat=v.seat.strip()[:10] or None,
            start=from_local(v.start),
            end=from_local(v.end) if v.end else None,
            note=v.note.strip()[:300] or None,
            place_key=place_key(v.kind, v.place_name, v.address, v.transport_no),
        )
        for v in visits
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "cases.visits",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"added": len(rows)},
    )
    if rows:
        publish_investigated(session, bus, case)
    return rows


def visits_of(session: Session, principal: Principal, case_id: int) -> list[Visit]:
    case = get_case(session, principal, case_id)
    return list(session.scalars(select(Visit).where(Visit.case_id == case.id).order_by(Visit.start)))
