"""The community's worklist of arrivals: one row a trip with masked identity, its reports and channels,
and the community's progress on each (audited).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    Arrival,
    ArrivalReport,
    RiskArea,
    WorklistState,
)
from fangkong.areas.service.arrivals.matching import _national_counties
from fangkong.areas.service.arrivals.registering import _actor
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class ArrivalView:
    """A worklist row: masked identity, the trip, the category and where the community stands on it."""

    id: int
    person_id: int | None
    name: str
    id_number: str
    phone: str | None
    origin_county_code: str
    origin_county_name: str
    origin_area_id: int | None
    origin_area_name: str
    departed_on: dt.date
    arrived_on: dt.date
    destination_id: int
    destination_name: str
    companions: int
    places_visited: str
    category: str
    state: str
    reports: int
    channels: tuple[str, ...]


@dataclass(frozen=True)
class WorklistPage:
    items: list[ArrivalView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


# --- the community's worklist ----------------------------------------------------------------------------


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(Message("your role lacks the permission {permission}", permission=permission.value))


def _views(session: Session, rows: Sequence[Arrival]) -> list[ArrivalView]:
    if not rows:
        return []
    ids = [a.id for a in rows]
    reports: dict[int, list[str]] = {}
    for arrival_id, channel in session.execute(
        select(ArrivalReport.arrival_id, ArrivalReport.channel)
        .where(ArrivalReport.arrival_id.in_(ids))
        .order_by(ArrivalReport.id)
    ):
        reports.setdefault(arrival_id, []).append(channel)
    places = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({a.destination_id for a in rows})
            )
        ).all()
    )
    counties = dict(
        session.execute(
            select(Jurisdiction.code, Jurisdiction.name).where(
                Jurisdiction.code.in_({a.origin_county_code for a in rows})
            )
        ).all()
    )
    national = _national_counties()
    area_names = dict(
        session.execute(
            select(RiskArea.id, RiskArea.name).where(
                RiskArea.id.in_({a.origin_area_id for a in rows if a.origin_area_id is not None})
            )
        ).all()
    )
    return [
        ArrivalView(
            id=a.id,
            person_id=a.person_id,
            name=a.name_masked,
            id_number=a.id_masked,
            phone=a.phone_masked,
            origin_county_code=a.origin_county_code,
            origin_county_name=counties.get(a.origin_county_code) or national.get(a.origin_county_code, ""),
            origin_area_id=a.origin_area_id,
            origin_area_name=area_names.get(a.origin_area_id or -1, a.origin_text),
            departed_on=a.departed_on,
            arrived_on=a.arrived_on,
            destination_id=a.destination_id,
            destination_name=places.get(a.destination_id, ""),
            companions=a.companions,
            places_visited=a.places_visited,
            category=a.category.value,
            state=a.worklist_state.value,
            reports=len(reports.get(a.id, [])),
            channels=tuple(dict.fromkeys(reports.get(a.id, []))),
        )
        for a in rows
    ]


def _state(value: str | WorklistState, name: str = "state") -> WorklistState:
    try:
        return WorklistState(value)
    except ValueError:
        choices = ", ".join(s.value for s in WorklistState)
        raise InvalidInput(
            [
                RowError(
                    1,
                    name,
                    Message("“{value}” is not one of {choices}", value=str(value)[:20], choices=choices),
                )
            ]
        ) from None


def worklist(
    session: Session,
    principal: Principal,
    *,
    state: str | WorklistState | None = None,
    page: int = 1,
    size: int = 50,
) -> WorklistPage:
    """The arrivals staying in the caller's jurisdiction, one row a trip, newest arrival first."""
    _require(principal, Permission.arrivals_manage)
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = max(1, page)
    conditions = [under(Arrival.jpath, principal.jpath)]
    if state is not None and state != "":
        conditions.append(Arrival.worklist_state == _state(state))
    total = session.scalar(select(func.count()).select_from(Arrival).where(*conditions)) or 0
    rows = list(
        session.scalars(
            select(Arrival)
            .where(*conditions)
            .order_by(Arrival.arrived_on.desc(), Arrival.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return WorklistPage(_views(session, rows), total, page, size)


def get(session: Session, principal: Principal, arrival_id: int) -> ArrivalView:
    _require(principal, Permission.arrivals_manage)
    arrival = session.get(Arrival, arrival_id)
    if arrival is None or not path_in_scope(arrival.jpath, principal.jpath):
        raise NotFound(f"arrival {arrival_id} not found")
    return _views(session, [arrival])[0]


def mark(
    session: Session, principal: Principal, arrival_id: int, state: str | WorklistState, *, ip: str = ""
) -> ArrivalView:
    """The community's progress on one arrival (contacted, plan applied, closed), audited."""
    _require(principal, Permission.arrivals_manage)
    new_state = _state(state)
    arrival = session.get(Arrival, arrival_id)
    if arrival is None or not path_in_scope(arrival.jpath, principal.jpath):
        raise NotFound(f"arrival {arrival_id} not found")
    before = arrival.worklist_state
    arrival.worklist_state = new_state
    session.flush()
    audit.record(
        session,
        _actor(principal.username, ip or "web", principal.user_id),
        "arrivals.mark",
        "arrival",
        arrival.id,
        jpath=arrival.jpath,
        detail={"from": before.value, "to": new_state.value},
    )
    return _views(session, [arrival])[0]
