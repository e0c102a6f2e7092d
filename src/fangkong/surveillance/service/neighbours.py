"""Neighbours and locations of areas: the neighbours fusion uses (configured, else the siblings),
replacing them, and the centroids the space-time scan draws its circles around.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.jurisdictions import same_world_as
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope
from fangkong.surveillance.models import Adjacency, AreaLocation

# ---------------------------------------- neighbours and locations


def jurisdiction_in_scope(session: Session, path: str, jurisdiction_id: int) -> Jurisdiction:
    node = session.get(Jurisdiction, jurisdiction_id)
    if node is None or not path_in_scope(node.path, path):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node


def neighbours_of(session: Session, path: str, jurisdiction_id: int) -> tuple[list[Jurisdiction], bool]:
    """The neighbours used by fusion, and whether they are configured (else: siblings)."""
    node = jurisdiction_in_scope(session, path, jurisdiction_id)
    pairs = session.execute(
        select(Adjacency.jurisdiction_id, Adjacency.neighbour_id).where(
            or_(Adjacency.jurisdiction_id == node.id, Adjacency.neighbour_id == node.id)
        )
    ).all()
    ids = {b if a == node.id else a for a, b in pairs}
    if ids:
        rows = session.scalars(
            select(Jurisdiction).where(Jurisdiction.id.in_(ids)).order_by(Jurisdiction.code)
        )
        return list(rows), True
    siblings = session.scalars(
        select(Jurisdiction)
        .where(
            Jurisdiction.parent_id == node.parent_id,
            Jurisdiction.id != node.id,
            Jurisdiction.level == node.level,
            same_world_as(session, node.path, node.parent_id),
        )
        .order_by(Jurisdiction.code)
    )
    return list(siblings), False


def set_neighbours(
    session: Session, actor: audit.Actor, path: str, jurisdiction_id: int, codes: Sequence[str]
) -> list[Jurisdiction]:
    """Replace a jurisdiction's configured neighbours (an empty list goes back to siblings)."""
    node = jurisdiction_in_scope(session, path, jurisdiction_id)
    found = {
        j.code: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(list(codes))))
    }
    errors = [
        RowError(i, "neighbours", Message("jurisdiction “{value}” not found", value=c))
        for i, c in enumerate(codes, start=1)
        if c not in found or not path_in_scope(found[c].path, path)
    ]
    errors += [
        RowError(i, "neighbours", Message("{code} is not a {level}", code=c, level=Message(node.level.value)))
        for i, c in enumerate(codes, start=1)
        if c in found and found[c].level is not node.level
    ]
    errors += [
        RowError(i, "neighbours", "an area is not its own neighbour")
        for i, c in enumerate(codes, start=1)
        if c == node.code
    ]
    if errors:
        raise InvalidInput(errors)
    for pair in session.scalars(
        select(Adjacency).where(or_(Adjacency.jurisdiction_id == node.id, Adjacency.neighbour_id == node.id))
    ):
        session.delete(pair)
    session.flush()
    for code in dict.fromkeys(codes):
        session.add(Adjacency(jurisdiction_id=node.id, neighbour_id=found[code].id, jpath=node.path))
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.neighbours.set",
        "jurisdiction",
        node.id,
        jpath=node.path,
        detail={"neighbours": list(codes)},
    )
    return neighbours_of(session, path, node.id)[0]


@dataclass(frozen=True)
class LocationInput:
    jurisdiction: str
    longitude: float
    latitude: float


def set_locations(session: Session, actor: audit.Actor, path: str, items: Sequence[LocationInput]) -> int:
    """Centroids (WGS84 degrees) for the space-time scan's circles; replaces those given."""
    codes = [i.jurisdiction for i in items]
    found = {j.code: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))}
    errors: list[RowError] = []
    for row, item in enumerate(items, start=1):
        node = found.get(item.jurisdiction)
        if node is None or not path_in_scope(node.path, path):
            errors.append(
                RowError(
                    row, "jurisdiction", Message("jurisdiction “{value}” not found", value=item.jurisdiction)
                )
            )
        if not -180.0 <= item.longitude <= 180.0:
            errors.append(RowError(row, "longitude", "must lie in -180..180 degrees"))
        if not -90.0 <= item.latitude <= 90.0:
            errors.append(RowError(row, "latitude", "must lie in -90..90 degrees"))
    if errors:
        raise InvalidInput(errors)
    existing = {
        loc.jurisdiction_id: loc
        for loc in session.scalars(
            select(AreaLocation).where(AreaLocation.jurisdiction_id.in_([found[c].id for c in codes]))
        )
    }
    for item in items:
        node = found[item.jurisdiction]
        loc = existing.get(node.id)
        if loc is None:
            loc = AreaLocation(jurisdiction_id=node.id, jpath=node.path, longitude=0.0, latitude=0.0)
            session.add(loc)
            existing[node.id] = loc
        loc.longitude, loc.latitude = item.longitude, item.latitude
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.locations.set",
        "jurisdiction",
        "*",
        jpath=path,
        detail={"count": len(items)},
    )
    return len(items)
