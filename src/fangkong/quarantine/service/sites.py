"""The reserve list: quarantine sites and their rooms, and the reserve standard per jurisdiction.

A site belongs to a jurisdiction and is seen and changed only by users whose scope holds it (outside
it, it is "not found"). Its status changes only through :mod:`.activation`; here it is created, edited
and given rooms. The reserve standard counts every room of every site not closed for good that is in
service, against 20 rooms per 10,000 residents (``rules.capacity``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import LEVEL_ORDER, Jurisdiction, Level, Person
from fangkong.core.scope import path_in_scope, under
from fangkong.quarantine.models import (
    QuarantineRoom,
    QuarantineSite,
    RoomEvent,
    RoomKind,
    RoomState,
    SiteKind,
    SiteStatus,
)
from fangkong.quarantine.rules.capacity import RESERVE_ROOMS_PER_10K, RESERVE_STANDARD_SOURCE, reserve_figures
from fangkong.resources.service import postings

MAX_PAGE_SIZE = 200
# Beds a room may hold: a family room of a large household; more is a typing error.
MAX_BEDS = 12
# Longest time to open a reserve site, hours (a month): more is a typing error.
MAX_HOURS_TO_OPEN = 720


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


# ---------------------------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class SiteInput:
    name: str
    kind: SiteKind | str
    address: str
    jurisdiction_code: str
    operator: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    tier: int = 1
    hours_to_open: int = 24


def _parse_kind(value: SiteKind | str) -> SiteKind | None:
    try:
        return SiteKind(str(value).strip())
    except ValueError:
        return None


def _checked(session: Session, principal: Principal, data: SiteInput) -> tuple[SiteKind, Jurisdiction]:
    errors: list[RowError] = []
    name = data.name.strip()
    if not name:
        errors.append(RowError(1, "name", "a site needs a name"))
    elif len(name) > 120:
        errors.append(RowError(1, "name", Message("at most {n} characters", n=120)))
    kind = _parse_kind(data.kind)
    if kind is None:
        errors.append(
            RowError(
                1,
                "kind",
                Message("{value} is not a kind of site (hotel, purpose_built, other)", value=str(data.kind)),
            )
        )
    for name_, value, limit in (
        ("address", data.address, 200),
        ("operator", data.operator, 120),
        ("contact_name", data.contact_name, 60),
        ("contact_phone", data.contact_phone, 30),
    ):
        if len(value.strip()) > limit:
            errors.append(RowError(1, name_, Message("at most {n} characters", n=limit)))
    for name_, number, low, high in (
        ("tier", data.tier, 1, 99),
        ("hours_to_open", data.hours_to_open, 0, MAX_HOURS_TO_OPEN),
    ):
        if not low <= number <= high:
            errors.append(
                RowError(1, name_, Message("a whole number from {low} to {high}", low=low, high=high))
            )
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == data.jurisdiction_code.strip()))
    if place is None or not path_in_scope(place.path, principal.jpath):
        errors.append(
            RowError(
                1,
                "jurisdiction_code",
                Message("{code} is not a place in your jurisdiction", code=data.jurisdiction_code),
            )
        )
    if errors:
        raise InvalidInput(errors)
    assert kind is not None
    assert place is not None
    return kind, place


def _name_taken(session: Session, jurisdiction_id: int, name: str, site_id: int | None = None) -> None:
    query = select(QuarantineSite.id).where(
        QuarantineSite.jurisdiction_id == jurisdiction_id, QuarantineSite.name == name
    )
    if site_id is not None:
        query = query.where(QuarantineSite.id != site_id)
    if session.scalar(query) is not None:
        raise Conflict(Message("a site named {name} already exists there", name=name))


def create_site(session: Session, principal: Principal, data: SiteInput, *, ip: str = "") -> QuarantineSite:
    """Put a site on the reserve list (status reserve)."""
    kind, place = _checked(session, principal, data)
    name = data.name.strip()
    _name_taken(session, place.id, name)
    site = QuarantineSite(
        name=name,
        kind=kind,
        address=data.address.strip(),
        jurisdiction_id=place.id,
        jpath=place.path,
        operator=data.operator.strip(),
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone.strip(),
        status=SiteStatus.reserve,
        tier=data.tier,
        hours_to_open=data.hours_to_open,
        staff_on_duty=0,
    )
    session.add(site)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.site.create",
        "quarantine_site",
        site.id,
        detail={"name": name, "tier": data.tier, "jurisdiction": place.code},
        jpath=place.path,
    )
    return site


def get_site(session: Session, principal: Principal, site_id: int) -> QuarantineSite:
    site = session.get(QuarantineSite, site_id)
    if site is None or not path_in_scope(site.jpath, principal.jpath):
        raise NotFound(f"quarantine site {site_id} not found")
    return site


def update_site(
    session: Session, principal: Principal, site_id: int, data: SiteInput, *, ip: str = ""
) -> QuarantineSite:
    """Change a site's particulars (not its status: that is :mod:`.activation`'s)."""
    site = get_site(session, principal, site_id)
    kind, place = _checked(session, principal, data)
    name = data.name.strip()
    _name_taken(session, place.id, name, site.id)
    before = {"name": site.name, "tier": site.tier, "jurisdiction": site.jurisdiction_id}
    site.name = name
    site.kind = kind
    site.address = data.address.strip()
    site.jurisdiction_id = place.id
    site.jpath = place.path
    site.operator = data.operator.strip()
    site.contact_name = data.contact_name.strip()
    site.contact_phone = data.contact_phone.strip()
    site.tier = data.tier
    site.hours_to_open = data.hours_to_open
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.site.update",
        "quarantine_site",
        site.id,
        detail={"before": before, "name": name, "tier": data.tier, "jurisdiction": place.id},
        jpath=place.path,
    )
    return site


@dataclass(frozen=True)
class SiteRow:
    """A line of the site list: the site and what its rooms hold."""

    id: int
    name: str
    kind: SiteKind
    address: str
    jurisdiction_id: int
    jurisdiction_name: str
    operator: str
    contact_name: str
    contact_phone: str
    status: SiteStatus
    status_changed_at: dt.datetime
    tier: int
    hours_to_open: int
    staff_on_duty: int
    rooms: int
    rooms_by_state: dict[RoomState, int]
    rooms_by_kind: dict[RoomKind, int]
    beds: int
    occupants: int

    @property
    def in_service(self) -> int:
        return self.rooms - self.rooms_by_state.get(RoomState.out_of_service, 0)

    @property
    def occupancy(self) -> float | None:
        """Occupied rooms over rooms in service (None without rooms in service)."""
        return self.rooms_by_state.get(RoomState.occupied, 0) / self.in_service if self.in_service else None


@dataclass(frozen=True)
class SitePage:
    items: list[SiteRow]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass
class _RoomTally:
    rooms: int = 0
    beds: int = 0
    occupants: int = 0
    by_state: Counter[RoomState] = field(default_factory=Counter)
    by_kind: Counter[RoomKind] = field(default_factory=Counter)


def room_tallies(session: Session, site_ids: Sequence[int]) -> dict[int, _RoomTally]:
    """Rooms, beds and occupants of each site by room state and kind, in one query per 1,000 sites."""
    tallies: dict[int, _RoomTally] = {}
    wanted = sorted(set(site_ids))
    for start in range(0, len(wanted), 1000):
        rows = session.execute(
            select(
                QuarantineRoom.site_id,
                QuarantineRoom.state,
                QuarantineRoom.kind,
                func.count(),
                func.sum(QuarantineRoom.beds),
                func.sum(QuarantineRoom.occupants),
            )
            .where(QuarantineRoom.site_id.in_(wanted[start : start + 1000]))
            .group_by(QuarantineRoom.site_id, QuarantineRoom.state, QuarantineRoom.kind)
        ).all()
        for site_id, state, kind, rooms, beds, occupants in rows:
            tally = tallies.setdefault(site_id, _RoomTally())
            tally.rooms += rooms
            tally.beds += int(beds or 0)
            tally.occupants += int(occupants or 0)
            tally.by_state[RoomState(state)] += rooms
            tally.by_kind[RoomKind(kind)] += rooms
    return tallies


def occupied_rooms(session: Session) -> list[tuple[int, str, int]]:
    """(site id, site's jurisdiction path, rooms occupied now) of every site with a room occupied (the
    resources capability draws protective equipment per occupied room-day from it)."""
    rows = session.execute(
        select(QuarantineSite.id, QuarantineSite.jpath, func.count())
        .join(QuarantineRoom, QuarantineRoom.site_id == QuarantineSite.id)
        .where(QuarantineRoom.state == RoomState.occupied)
        .group_by(QuarantineSite.id, QuarantineSite.jpath)
        .order_by(QuarantineSite.id)
    ).all()
    return [(int(site), str(path), int(rooms)) for site, path, rooms in rows]


def site_rows(session: Session, sites: Sequence[QuarantineSite]) -> list[SiteRow]:
    tallies = room_tallies(session, [s.id for s in sites])
    # Staff on duty: the people posted there now (resources' postings), not a number typed in.
    duty = postings.on_duty(session, postings.QUARANTINE_SITE, [s.id for s in sites])
    places = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({s.jurisdiction_id for s in sites})
            )
        ).all()
    )
    rows: list[SiteRow] = []
    for site in sites:
        tally = tallies.get(site.id, _RoomTally())
        rows.append(
            SiteRow(
                id=site.id,
                name=site.name,
                kind=site.kind,
                address=site.address,
                jurisdiction_id=site.jurisdiction_id,
                jurisdiction_name=places.get(site.jurisdiction_id, ""),
                operator=site.operator,
                contact_name=site.contact_name,
                contact_phone=site.contact_phone,
                status=site.status,
                status_changed_at=site.status_changed_at,
                tier=site.tier,
                hours_to_open=site.hours_to_open,
                staff_on_duty=duty.get(site.id, 0),
                rooms=tally.rooms,
                rooms_by_state=dict(tally.by_state),
                rooms_by_kind=dict(tally.by_kind),
                beds=tally.beds,
                occupants=tally.occupants,
            )
        )
    return rows


def list_sites(
    session: Session,
    principal: Principal,
    *,
    status: SiteStatus | None = None,
    page: int = 1,
    size: int = 50,
) -> SitePage:
    """Sites in scope, tier 1 first, with their rooms counted by state."""
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    conditions = [under(QuarantineSite.jpath, principal.jpath)]
    if status is not None:
        conditions.append(QuarantineSite.status == status)
    total = session.scalar(select(func.count()).select_from(QuarantineSite).where(*conditions)) or 0
    sites = list(
        session.scalars(
            select(QuarantineSite)
            .where(*conditions)
            .order_by(QuarantineSite.tier, QuarantineSite.jpath, QuarantineSite.name, QuarantineSite.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return SitePage(site_rows(session, sites), total, page, size)


# ---------------------------------------------------------------------------------------------- rooms


@dataclass(frozen=True)
class RoomInput:
    number: str
    kind: RoomKind | str
    beds: int
    floor: str = ""
    zone: str = ""


def _open_for_rooms(site: QuarantineSite) -> None:
    if site.status == SiteStatus.closed:
        raise Conflict(Message("{site} is closed for good: it takes no rooms", site=site.name))


def existing_numbers(session: Session, site_id: int) -> set[str]:
    return set(session.scalars(select(QuarantineRoom.number).where(QuarantineRoom.site_id == site_id)))


def insert_rooms(session: Session, site_id: int, rooms: Sequence[RoomInput]) -> None:
    """Write checked rooms in one statement (a multi-row INSERT), all free and empty."""
    if not rooms:
        return
    session.execute(
        insert(QuarantineRoom),
        [
            {
                "site_id": site_id,
                "number": r.number,
                "floor": r.floor,
                "zone": r.zone,
                "kind": RoomKind(r.kind),
                "beds": r.beds,
                "state": RoomState.free,
                "occupants": 0,
            }
            for r in rooms
        ],
    )


def add_rooms(
    session: Session, principal: Principal, site_id: int, rooms: Sequence[RoomInput], *, ip: str = ""
) -> int:
    """Add rooms to a site (from a form: row N is the N-th room given); returns how many were added."""
    site = get_site(session, principal, site_id)
    _open_for_rooms(site)
    taken = existing_numbers(session, site.id)
    seen: dict[str, int] = {}
    errors: list[RowError] = []
    cleaned: list[RoomInput] = []
    for row, room in enumerate(rooms, start=1):
        number = room.number.strip()
        kind = _room_kind(room.kind)
        if not number:
            errors.append(RowError(row, "number", "a room needs a number"))
        elif len(number) > 20:
            errors.append(RowError(row, "number", Message("at most {n} characters", n=20)))
        elif number in taken:
            errors.append(
                RowError(row, "number", Message("room {number} already exists in this site", number=number))
            )
        elif number in seen:
            errors.append(
                RowError(
                    row,
                    "number",
                    Message(
                        "room {number} is given twice (also row {other})", number=number, other=seen[number]
                    ),
                )
            )
        seen.setdefault(number, row)
        if kind is None:
            errors.append(
                RowError(
                    row,
                    "kind",
                    Message("{value} is not a room type (single, family, accessible)", value=str(room.kind)),
                )
            )
        if not 1 <= room.beds <= MAX_BEDS:
            errors.append(
                RowError(row, "beds", Message("a whole number from {low} to {high}", low=1, high=MAX_BEDS))
            )
        if len(room.floor.strip()) > 10:
            errors.append(RowError(row, "floor", Message("at most {n} characters", n=10)))
        if len(room.zone.strip()) > 20:
            errors.append(RowError(row, "zone", Message("at most {n} characters", n=20)))
        if kind is not None:
            cleaned.append(RoomInput(number, kind, room.beds, room.floor.strip(), room.zone.strip()))
    if not rooms:
        errors.append(RowError(1, "number", "no room was given"))
    if errors:
        raise InvalidInput(errors)
    insert_rooms(session, site.id, cleaned)
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.rooms.add",
        "quarantine_site",
        site.id,
        detail={"rooms": len(cleaned), "beds": sum(r.beds for r in cleaned)},
        jpath=site.jpath,
    )
    return len(cleaned)


def _room_kind(value: RoomKind | str) -> RoomKind | None:
    try:
        return RoomKind(str(value).strip())
    except ValueError:
        return None


def get_room(session: Session, principal: Principal, room_id: int) -> tuple[QuarantineRoom, QuarantineSite]:
    room = session.get(QuarantineRoom, room_id)
    site = session.get(QuarantineSite, room.site_id) if room is not None else None
    if room is None or site is None or not path_in_scope(site.jpath, principal.jpath):
        raise NotFound(f"quarantine room {room_id} not found")
    return room, site


def set_room_service(
    session: Session, principal: Principal, room_id: int, in_service: bool, note: str = "", *, ip: str = ""
) -> QuarantineRoom:
    """Take a free room out of service (repairs, a staff room) or put it back as free.

    The state changes with a conditional UPDATE, like a placement: a room taken by a placement in the
    meantime is not taken out of service under its occupants.
    """
    from sqlalchemy import update

    room, site = get_room(session, principal, room_id)
    if in_service:
        wanted_from, target, action = (RoomState.out_of_service,), RoomState.free, "in_service"
    else:
        wanted_from, target, action = (RoomState.free,), RoomState.out_of_service, "out_of_service"
    changed = session.execute(
        update(QuarantineRoom)
        .where(
            QuarantineRoom.id == room.id, QuarantineRoom.state.in_(wanted_from), QuarantineRoom.occupants == 0
        )
        .values(state=target)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(room)
    if changed != 1 and room.state != target:
        raise Conflict(
            Message(
                "room {number} is {state}: only a free room goes out of service, and only an out-of-service "
                "room comes back",
                number=room.number,
                state=Message(room.state.value, ctx="quarantine"),
            )
        )
    if changed == 1:
        session.add(
            RoomEvent(room_id=room.id, action=action, note=note.strip()[:2000], by=principal.username)
        )
        audit.record(
            session,
            actor(principal, ip),
            # Literal actions (not built from ``action``): the audit page's labels are checked against each.
            "quarantine.room.in_service" if in_service else "quarantine.room.out_of_service",
            "quarantine_room",
            room.id,
            detail={"site": site.id, "number": room.number, "note": note.strip()},
            jpath=site.jpath,
        )
    return room


# ----------------------------------------------------------------------------------- reserve standard


@dataclass(frozen=True)
class ReserveRow:
    """A jurisdiction's reserve list against the standard of rooms per 10,000 residents."""

    jurisdiction_id: int
    code: str
    name: str
    level: Level
    residents: int
    rooms: int
    per_10k: float | None
    standard: int
    required: int
    shortfall: int
    source: str

    @property
    def meets_standard(self) -> bool:
        return self.shortfall == 0


def reserve_rooms(session: Session, scope_path: str) -> int:
    """Rooms in service on the reserve list under a path: every site not closed for good."""
    return (
        session.scalar(
            select(func.count())
            .select_from(QuarantineRoom)
            .join(QuarantineSite, QuarantineSite.id == QuarantineRoom.site_id)
            .where(
                under(QuarantineSite.jpath, scope_path),
                QuarantineSite.status != SiteStatus.closed,
                QuarantineRoom.state != RoomState.out_of_service,
            )
        )
        or 0
    )


def reserve_standard(
    session: Session, principal: Principal, *, level_code: str | None = None
) -> list[ReserveRow]:
    """The reserve standard for a jurisdiction (the caller's, or ``level_code`` inside it) and each place
    directly under it: residents in the registry, rooms on the reserve list, rooms per 10,000, shortfall."""
    if level_code:
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == level_code.strip()))
        if node is None or not path_in_scope(node.path, principal.jpath):
            raise NotFound(f"jurisdiction {level_code} not found")
    else:
        node = session.get(Jurisdiction, principal.jurisdiction_id)
        if node is None:
            raise NotFound(f"jurisdiction {principal.jurisdiction_id} not found")
    children_query = select(Jurisdiction).where(Jurisdiction.parent_id == node.id)
    if not node.is_sandbox:
        # A drill's sandbox is no real place: its synthetic residents stay out of the standard.
        children_query = children_query.where(Jurisdiction.is_sandbox.is_(False))
    # Sites are kept by counties and above (a county's sites serve all its townships): the standard is
    # not asked of a township or community, so their rows would only show false shortfalls.
    children = [
        c
        for c in session.scalars(children_query.order_by(Jurisdiction.code))
        if LEVEL_ORDER[c.level] <= LEVEL_ORDER[Level.county]
    ]
    rows: list[ReserveRow] = []
    for place in (node, *children):
        residents = (
            session.scalar(select(func.count()).select_from(Person).where(under(Person.jpath, place.path)))
            or 0
        )
        figures = reserve_figures(residents, reserve_rooms(session, place.path), RESERVE_ROOMS_PER_10K)
        rows.append(
            ReserveRow(
                jurisdiction_id=place.id,
                code=place.code,
                name=place.name,
                level=place.level,
                residents=figures.residents,
                rooms=figures.rooms,
                per_10k=figures.per_10k,
                standard=figures.standard,
                required=figures.required,
                shortfall=figures.shortfall,
                source=RESERVE_STANDARD_SOURCE,
            )
        )
    return rows
