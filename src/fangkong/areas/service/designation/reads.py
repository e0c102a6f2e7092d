"""Reads every use case of risk areas builds on, the reads other capabilities make, the timeline's writer.

The constants the use cases share (which cases are infections, which areas still stand, which units are a
whole jurisdiction, the timeline's kinds), a caller's audit actor and permission check, who a handler
reads tracing as; an area in the caller's scope, the list of areas, the areas in force (the public page's
and arrivals' read), an area's households, timeline and cases, the counties whose rest is low; and the
writer of one line of an area's timeline (``RiskAreaChange``), which every step uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskAreaCase,
    RiskAreaChange,
    RiskAreaHousehold,
    RiskLevel,
    UnitKind,
)
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.errors import Forbidden, NotFound
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Jurisdiction, Role
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under

# Cases that are infections (a suspected case is not, until confirmed; an excluded one never is).
INFECTIONS = frozenset({"confirmed", "asymptomatic"})
# Areas still standing: a proposal waiting for approval, or an area in force.
OPEN_STATES = (AreaState.proposed, AreaState.in_force)
# Units that are a whole jurisdiction: their residents are everyone under it, not listed households.
WHOLE_JURISDICTION = frozenset({UnitKind.community, UnitKind.township})
MAX_PAGE_SIZE = 200
# A visit on a train or a plane designates no area (tracing's place kind).
TRANSPORT = "transport"
# Timeline kinds (``RiskAreaChange.kind``).
PROPOSED, DESIGNATED, REJECTED, NEW_CASE, DOWNGRADED, LIFTED, HOUSEHOLDS = (
    "proposed",
    "designated",
    "rejected",
    "new_case",
    "downgraded",
    "lifted",
    "households",
)

T = TypeVar("T")


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def _require(principal: Principal, permission: Permission, what: Message) -> None:
    if not principal.can(permission):
        raise Forbidden(Message("{what} needs the {permission} permission", what=what, permission=permission))


def _reader() -> Principal:
    """Who a handler reads tracing as: the system, over the whole tree (it writes nothing there)."""
    return Principal(0, "system", "system", Role.command_centre, 0, "/", "", "system")


# ---------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def get_area(session: Session, principal: Principal, area_id: int) -> RiskArea:
    area = session.get(RiskArea, area_id)
    if area is None or not path_in_scope(area.jpath, principal.jpath):
        raise NotFound(f"risk area {area_id} not found")
    return area


@dataclass(frozen=True)
class AreaFilter:
    state: AreaState | None = None
    level: RiskLevel | None = None
    unit_kind: UnitKind | None = None
    county_id: int | None = None
    jurisdiction_id: int | None = None
    # A part of the area's name.
    q: str = ""


def list_areas(
    session: Session, principal: Principal, filters: AreaFilter | None = None, page: int = 1, size: int = 50
) -> Page[RiskArea]:
    """Areas in the caller's scope, newest first, filtered and paged."""
    filters = filters or AreaFilter()
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    stmt = select(RiskArea).where(under(RiskArea.jpath, principal.jpath))
    if filters.state is not None:
        stmt = stmt.where(RiskArea.state == filters.state)
    if filters.level is not None:
        stmt = stmt.where(RiskArea.level == filters.level)
    if filters.unit_kind is not None:
        stmt = stmt.where(RiskArea.unit_kind == filters.unit_kind)
    if filters.county_id is not None:
        stmt = stmt.where(RiskArea.county_id == filters.county_id)
    if filters.jurisdiction_id is not None:
        stmt = stmt.where(RiskArea.jurisdiction_id == filters.jurisdiction_id)
    if filters.q.strip():
        stmt = stmt.where(RiskArea.name.contains(filters.q.strip(), autoescape=True))
    total = (
        session.scalar(select(func.count()).select_from(stmt.with_only_columns(RiskArea.id).subquery())) or 0
    )
    items = list(session.scalars(stmt.order_by(RiskArea.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(items, total, page, size)


def areas_in_force(session: Session, scope_path: str) -> list[RiskArea]:
    """The high and medium areas in force under ``scope_path`` (for the public page and arrivals)."""
    return list(
        session.scalars(
            select(RiskArea)
            .where(under(RiskArea.jpath, scope_path), RiskArea.state == AreaState.in_force)
            .order_by(RiskArea.jpath, RiskArea.id)
        )
    )


def households_of(session: Session, area_ids: Iterable[int]) -> dict[int, list[int]]:
    """The listed households of each area (areas that are a whole jurisdiction list none)."""
    ids = sorted(set(area_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), 1000):
        for area_id, household_id in session.execute(
            select(RiskAreaHousehold.area_id, RiskAreaHousehold.household_id)
            .where(RiskAreaHousehold.area_id.in_(ids[start : start + 1000]))
            .order_by(RiskAreaHousehold.area_id, RiskAreaHousehold.household_id)
        ):
            found.setdefault(area_id, []).append(household_id)
    return found


def timeline(session: Session, principal: Principal, area_id: int) -> list[RiskAreaChange]:
    """Every step of an area, oldest first: proposed, designated, new cases, downgraded, lifted."""
    area = get_area(session, principal, area_id)
    return list(
        session.scalars(
            select(RiskAreaChange)
            .where(RiskAreaChange.area_id == area.id)
            .order_by(RiskAreaChange.at, RiskAreaChange.id)
        )
    )


def cases_of(session: Session, principal: Principal, area_id: int) -> list[RiskAreaCase]:
    """The cases (and places) behind an area: its reason, in the order they were found."""
    area = get_area(session, principal, area_id)
    return list(
        session.scalars(
            select(RiskAreaCase)
            .where(RiskAreaCase.area_id == area.id)
            .order_by(RiskAreaCase.found_on, RiskAreaCase.id)
        )
    )


@dataclass(frozen=True)
class CountyLevel:
    """A county with high or medium areas in force: everything else in it is low (protocols.md §4)."""

    county_id: int
    code: str
    name: str
    jpath: str
    high: int
    medium: int

    @property
    def rest_is_low(self) -> bool:
        return self.high + self.medium > 0


def _county_path_of(path: str) -> str | None:
    codes = [c for c in path.split("/") if c]
    return "/" + "".join(f"{c}/" for c in codes[:3]) if len(codes) >= 3 else None


def county_levels(session: Session, principal: Principal) -> list[CountyLevel]:
    """The counties in the caller's view (those under it, or the one it lies in) with any high or medium
    area in force, and how many of each: the rest of each such county is low."""
    own_county = _county_path_of(principal.jpath)
    in_view = under(Jurisdiction.path, principal.jpath)
    if own_county is not None and own_county != principal.jpath:
        in_view = or_(in_view, Jurisdiction.path == own_county)
    rows = session.execute(
        select(
            Jurisdiction.id,
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.path,
            RiskArea.level,
            func.count(),
        )
        .join(RiskArea, RiskArea.county_id == Jurisdiction.id)
        .where(
            in_view,
            RiskArea.state == AreaState.in_force,
            RiskArea.level.in_([RiskLevel.high, RiskLevel.medium]),
        )
        .group_by(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.path, RiskArea.level)
    )
    counts: dict[int, tuple[str, str, str, dict[RiskLevel, int]]] = {}
    for jid, code, name, path, level, n in rows:
        counts.setdefault(jid, (code, name, path, {}))[3][RiskLevel(level)] = int(n)
    return [
        CountyLevel(jid, code, name, path, levels.get(RiskLevel.high, 0), levels.get(RiskLevel.medium, 0))
        for jid, (code, name, path, levels) in sorted(counts.items(), key=lambda item: item[1][2])
    ]


# ----------------------------------------------------------------------------------------- the timeline


def _change(
    session: Session,
    area: RiskArea,
    kind: str,
    by: str,
    reason: str | Message = "",
    from_level: RiskLevel | None = None,
    to_level: RiskLevel | None = None,
) -> RiskAreaChange:
    change = RiskAreaChange(
        area_id=area.id,
        county_id=area.county_id,
        jpath=area.jpath,
        kind=kind,
        from_level=from_level,
        to_level=to_level,
        reason=stored(reason),
        by=by,
        at=utcnow(),
    )
    session.add(change)
    return change
