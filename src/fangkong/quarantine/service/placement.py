"""Placement: who must be placed (read from the plans), their care needs, bulk and single placement.

The to-place list is never stored: it is everyone in scope whose active plan has a centralized stage not
yet over and who holds no active stay, read from ``protocol.service.centralized_stages`` each time, so a
re-plan or a protocol switch moves it by itself. Bulk placement hands the list and the free rooms to the
pure solver (``quarantine.rules.placement``); a coordinator's single placement is checked against the
same rules here, with a message saying which rule refused it.

Every placement writes its room with one conditional UPDATE (see ``quarantine.models``): the database,
not this module, makes sure two coordinators never put unrelated people in one room or exceed its beds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import ancestor_paths, path_in_scope, real_place_of, under
from fangkong.protocol.service import CentralizedStage, centralized_stages
from fangkong.quarantine.models import (
    ACTIVE_STAYS,
    PersonNeeds,
    QuarantineRoom,
    QuarantineSite,
    RoomEvent,
    RoomKind,
    RoomState,
    SiteStatus,
    Stay,
    StayState,
)
from fangkong.quarantine.rules import placement as rules
from fangkong.tracing.service import index_cases_of_sources

MAX_PAGE_SIZE = 500
# Under this age a person is a minor and goes with a carer (未成年人, under 18).
MINOR_AGE = 18
# From this age a person is never listed as a carer (issue 12 item 5: "people over 60").
CARER_AGE_LIMIT = 60
# Rooms a minor or a person needing care may go to, with their carer.
CARE_ROOMS = (RoomKind.family, RoomKind.accessible)
# Room writes per statement batch when a bulk placement writes its rooms and stays.
WRITE_BATCH = 1_000
# A bulk placement whose people were placed by someone else meanwhile is solved again this often.
RETRIES = 3

# Why a person was left unplaced, beyond the solver's own reasons (``rules.placement.UNPLACED_REASONS``).
REASONS: dict[str, str] = {
    "not_to_place": "not on the to-place list (no centralized stage now, or already placed)",
    "room_taken": "the room was taken by another placement at the same moment",
}


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@cache
def county_of(jpath: str) -> str:
    """The county code of a path (its third level), or the deepest code above county level."""
    codes = [c for c in real_place_of(jpath).split("/") if c]
    return codes[min(2, len(codes) - 1)] if codes else ""


def sites_visible(principal: Principal) -> ColumnElement[bool]:
    """Sites a coordinator places into: their own subtree's, and those of the jurisdictions above them
    (a city's site serves its counties); another county's sites are not theirs to fill."""
    above = ancestor_paths(principal.jpath)[:-1]
    return or_(under(QuarantineSite.jpath, principal.jpath), QuarantineSite.jpath.in_(above))


def site_is_visible(site: QuarantineSite, principal: Principal) -> bool:
    return path_in_scope(site.jpath, principal.jpath) or site.jpath in ancestor_paths(principal.jpath)[:-1]


def get_room(session: Session, principal: Principal, room_id: int) -> tuple[QuarantineRoom, QuarantineSite]:
    room = session.get(QuarantineRoom, room_id)
    site = session.get(QuarantineSite, room.site_id) if room is not None else None
    if room is None or site is None or not site_is_visible(site, principal):
        raise NotFound(f"room {room_id} not found")
    return room, site


def case_key_of(case_ids: Iterable[int]) -> str:
    return ",".join(str(c) for c in sorted(set(case_ids)))


def group_key_of(household_id: int | None, person_id: int, case_ids: Iterable[int]) -> str:
    """Who may share a room: one household with one set of index cases (a person alone without one)."""
    who = f"h{household_id}" if household_id is not None else f"p{person_id}"
    key = f"{who}|c{case_key_of(case_ids)}"
    # The column holds 120 characters; a contact of very many cases keeps a stable digest instead.
    return key if len(key) <= 120 else f"{who}|{hashlib.sha1(key.encode()).hexdigest()}"


# ---------------------------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class ToPlaceRow:
    """One person to place: their earliest deadline and latest release over their centralized stages."""

    person_id: int
    name: str
    age: int
    sex: str
    jurisdiction_id: int
    community: str
    jpath: str
    household_id: int | None
    category: str
    source: str
    sources: tuple[str, ...]
    identified_at: dt.datetime
    deadline_at: dt.datetime
    hours_left: float
    stage_start: dt.date
    release: dt.date
    index_case_ids: tuple[int, ...]
    needs_care: bool
    chronically_ill: bool
    # The group a placed person already belongs to (a room transfer keeps it).
    group: str | None = None

    @property
    def late(self) -> bool:
        return self.hours_left < 0

    @property
    def minor(self) -> bool:
        return self.age < MINOR_AGE

    @property
    def may_care(self) -> bool:
        """Whether this person may be listed as someone's carer."""
        return (
            not self.minor and self.age < CARER_AGE_LIMIT and not self.chronically_ill and not self.needs_care
        )

    @property
    def needs_carer(self) -> bool:
        return self.minor or self.needs_care

    @property
    def group_key(self) -> str:
        if self.group is not None:
            return self.group
        return group_key_of(self.household_id, self.person_id, self.index_case_ids)

    @property
    def case_key(self) -> str:
        return case_key_of(self.index_case_ids)


@dataclass(frozen=True)
class ToPlacePage:
    items: list[ToPlaceRow]
    total: int
    late: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def active_stay_person_ids(session: Session, person_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    unique = sorted(set(person_ids))
    for start in range(0, len(unique), 1000):
        found.update(
            session.scalars(
                select(Stay.person_id).where(
                    Stay.person_id.in_(unique[start : start + 1000]), Stay.state.in_(ACTIVE_STAYS)
                )
            )
        )
    return found


class _PersonFacts(NamedTuple):
    """What placement reads of a registry person (not the encrypted personal data)."""

    id: int
    name_masked: str
    birth_date: dt.date
    sex: str
    jurisdiction_id: int
    jpath: str
    household_id: int | None


def _people(session: Session, person_ids: Sequence[int]) -> dict[int, _PersonFacts]:
    found: dict[int, _PersonFacts] = {}
    unique = sorted(set(person_ids))
    columns = (
        Person.id,
        Person.name_masked,
        Person.birth_date,
        Person.sex,
        Person.jurisdiction_id,
        Person.jpath,
        Person.household_id,
    )
    for start in range(0, len(unique), 1000):
        rows = session.execute(select(*columns).where(Person.id.in_(unique[start : start + 1000])))
        found.update((row[0], _PersonFacts(*row)) for row in rows)
    return found


def _needs(session: Session, person_ids: Sequence[int]) -> dict[int, PersonNeeds]:
    found: dict[int, PersonNeeds] = {}
    unique = sorted(set(person_ids))
    for start in range(0, len(unique), 1000):
        rows = session.scalars(
            select(PersonNeeds).where(PersonNeeds.person_id.in_(unique[start : start + 1000]))
        )
        found.update((n.person_id, n) for n in rows)
    return found


def needs_of(session: Session, person_id: int) -> tuple[bool, bool]:
    """(needs care, chronically ill) of one person."""
    needs = session.get(PersonNeeds, person_id)
    return (needs.needs_care, needs.chronically_ill) if needs is not None else (False, False)


def _place_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(wanted))).all()
    )


def to_place_rows(
    session: Session, scope_path: str, person_ids: Sequence[int] | None = None, *, on: dt.date | None = None
) -> list[ToPlaceRow]:
    """Everyone in scope to be placed now, by deadline (the earliest first), then person.

    ``on`` is the day whose centralized stages count (default today; a drill passes its own calendar day).
    """
    now = clock.utcnow()
    today = on or clock.today()
    stages = centralized_stages(session, scope_path, person_ids=person_ids, on=today)
    by_person: dict[int, list[CentralizedStage]] = defaultdict(list)
    for stage in stages:
        by_person[stage.person_id].append(stage)
    placed = active_stay_person_ids(session, list(by_person))
    waiting = {pid: s for pid, s in by_person.items() if pid not in placed}
    if not waiting:
        return []
    people = _people(session, list(waiting))
    needs = _needs(session, list(waiting))
    cases = index_cases_of_sources(session, {s.source for ss in waiting.values() for s in ss})
    places = _place_names(session, {p.jurisdiction_id for p in people.values()})
    rows: list[ToPlaceRow] = []
    for person_id, own in waiting.items():
        person = people.get(person_id)
        if person is None:
            continue
        first = min(own, key=lambda s: (clock.as_utc(s.deadline_at), s.plan_id))
        deadline = clock.as_utc(first.deadline_at)
        need = needs.get(person_id)
        index_cases = sorted({c for s in own for c in cases.get(s.source, frozenset())})
        rows.append(
            ToPlaceRow(
                person_id=person_id,
                name=person.name_masked,
                age=age_on(person.birth_date, today),
                sex=person.sex,
                jurisdiction_id=person.jurisdiction_id,
                community=places.get(person.jurisdiction_id, ""),
                jpath=person.jpath,
                household_id=person.household_id,
                category=first.category,
                source=first.source,
                sources=tuple(sorted(s.source for s in own)),
                identified_at=clock.as_utc(first.identified_at),
                deadline_at=deadline,
                hours_left=round((deadline - now).total_seconds() / 3600, 1),
                stage_start=min(s.stage_start for s in own),
                release=max(s.release for s in own),
                index_case_ids=tuple(index_cases),
                needs_care=bool(need and need.needs_care),
                chronically_ill=bool(need and need.chronically_ill),
            )
        )
    rows.sort(key=lambda r: (r.deadline_at, r.person_id))
    return rows


def to_place(session: Session, principal: Principal, *, page: int = 1, size: int = 100) -> ToPlacePage:
    """The to-place list in scope with deadlines counting down (negative hours: late)."""
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    rows = to_place_rows(session, principal.jpath)
    start = (page - 1) * size
    return ToPlacePage(rows[start : start + size], len(rows), sum(r.late for r in rows), page, size)


def set_needs(
    session: Session,
    principal: Principal,
    person_id: int,
    needs_care: bool,
    chronically_ill: bool,
    note: str = "",
    *,
    ip: str = "",
) -> PersonNeeds:
    """Record what placement must know beyond the registry: the person needs care, is chronically ill."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(f"person {person_id} not found")
    if len(note) > 200:
        raise InvalidInput([RowError(1, "note", Message("at most {n} characters", n=200))])
    needs = session.get(PersonNeeds, person_id)
    if needs is None:
        needs = PersonNeeds(person_id=person_id, jpath=person.jpath)
        session.add(needs)
    needs.needs_care = needs_care
    needs.chronically_ill = chronically_ill
    needs.note = note
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.needs",
        "person",
        person_id,
        jpath=person.jpath,
        detail={"needs_care": needs_care, "chronically_ill": chronically_ill},
    )
    return needs


# ---------------------------------------------------------------------------------------------- room writes

_ROOMS = cast(Table, QuarantineRoom.__table__)
_STAYS = cast(Table, Stay.__table__)
_EVENTS = cast(Table, RoomEvent.__table__)


def take_room_statement() -> Any:
    """The conditional UPDATE that places ``n`` people of group ``g`` in a room (see ``quarantine.models``):
    it changes no row when the room is not in service, is full, or holds another group."""
    return (
        update(_ROOMS)
        .where(
            _ROOMS.c.id == bindparam("room"),
            # Not ``IN``: an expanding parameter cannot go through executemany.
            or_(_ROOMS.c.state == RoomState.free.value, _ROOMS.c.state == RoomState.occupied.value),
            _ROOMS.c.occupants + bindparam("n") <= _ROOMS.c.beds,
            or_(_ROOMS.c.group_key.is_(None), _ROOMS.c.group_key == bindparam("g")),
        )
        .values(
            occupants=_ROOMS.c.occupants + bindparam("n"),
            state=RoomState.occupied.value,
            group_key=bindparam("g"),
            case_key=bindparam("c"),
        )
    )


def take_room(session: Session, room_id: int, n: int, group_key: str, case_key: str) -> bool:
    """Place ``n`` people of one group in a room; False when the room was taken meanwhile."""
    result = session.execute(take_room_statement(), {"room": room_id, "n": n, "g": group_key, "c": case_key})
    return cast(int, getattr(result, "rowcount", 0)) == 1


def leave_room_statement() -> Any:
    """``n`` people leave a room; the last one out sends it to cleaning and forgets its group."""
    empty = _ROOMS.c.occupants - bindparam("n") <= 0
    return (
        update(_ROOMS)
        .where(_ROOMS.c.id == bindparam("room"))
        .values(
            occupants=_ROOMS.c.occupants - bindparam("n"),
            state=case((empty, RoomState.cleaning.value), else_=_ROOMS.c.state),
            group_key=case((empty, None), else_=_ROOMS.c.group_key),
            case_key=case((empty, None), else_=_ROOMS.c.case_key),
        )
    )


def leave_rooms(session: Session, leaving: Counter[int]) -> None:
    """Rooms emptied by stays that ended (one executemany; rooms in id order, as every writer locks them)."""
    if leaving:
        session.execute(leave_room_statement(), [{"room": r, "n": n} for r, n in sorted(leaving.items())])
    # Room objects this session holds would otherwise show their occupants before the UPDATE.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, QuarantineRoom) and obj.id in leaving:
            session.expire(obj)


def room_events(session: Session, rows: Sequence[tuple[int, int | None, str, str, str]]) -> None:
    """(room, stay, action, note, by) rows, in one executemany."""
    if rows:
        now = clock.utcnow()
        session.execute(
            _EVENTS.insert(),
            [
                {"room_id": r, "stay_id": s, "action": a, "note": n, "by": b, "at": now}
                for r, s, a, n, b in rows
            ],
        )


# ---------------------------------------------------------------------------------------------- rules


def room_refusal(
    room: QuarantineRoom,
    site: QuarantineSite,
    newcomers: Sequence[ToPlaceRow],
    *,
    joins_group: bool = False,
) -> Message | None:
    """Why these people may not go into this room now (None: they may). ``joins_group``: a carer joining
    the person they care for, who may be of another household but never of other index cases."""
    if site.status is not SiteStatus.open:
        return Message("the site is not open")
    if room.state not in (RoomState.free, RoomState.occupied):
        return Message("the room is not free (being cleaned or out of service)")
    if room.kind is RoomKind.single and room.occupants + len(newcomers) > 1:
        return Message("a single room holds one person")
    if room.occupants + len(newcomers) > room.beds:
        return Message(
            "the room has {beds} beds and {occupants} occupants", beds=room.beds, occupants=room.occupants
        )
    if (
        len(
            {p.case_key for p in newcomers}
            | ({room.case_key} if room.occupants and room.case_key is not None else set())
        )
        > 1
    ):
        return Message("contacts of different cases are never put together")
    groups = {p.group_key for p in newcomers}
    if not joins_group and (len(groups) > 1 or (room.occupants and room.group_key not in groups)):
        return Message("only one household may share a family room")
    for person in newcomers:
        if person.needs_carer and room.kind not in CARE_ROOMS:
            return Message(
                "a minor or a person needing care goes with a carer to an accessible or family room"
            )
    return None


def carer_refusal(carer: ToPlaceRow) -> Message | None:
    if carer.minor:
        return Message("a minor cannot be a carer")
    if carer.age >= CARER_AGE_LIMIT or carer.chronically_ill or carer.needs_care:
        return Message("people over 60, chronically ill or needing care themselves are never carers")
    return None


# ---------------------------------------------------------------------------------------------- one person


def place_in_room(
    session: Session,
    principal: Principal,
    person_id: int,
    room_id: int,
    *,
    carer_for: int | None = None,
    ip: str = "",
) -> Stay:
    """A coordinator places one person in a room (as the carer of someone placed there, with ``carer_for``).

    The placement rules are checked with a message naming the rule; the room is then written with the
    conditional UPDATE, so a room taken meanwhile by another coordinator is a conflict, never a double
    booking.
    """
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(f"person {person_id} not found")
    room, site = get_room(session, principal, room_id)
    rows = to_place_rows(session, principal.jpath, [person_id])
    if not rows:
        if active_stay_person_ids(session, [person_id]):
            raise Conflict(Message("this person is already placed"))
        raise Conflict(Message("this person has no centralized quarantine to be placed for now"))
    row = rows[0]
    group_key = row.group_key
    if carer_for is not None:
        refusal = carer_refusal(row)
        if refusal is not None:
            raise Conflict(refusal)
        cared = session.scalar(
            select(Stay).where(
                Stay.person_id == carer_for, Stay.state.in_(ACTIVE_STAYS), Stay.room_id == room.id
            )
        )
        if cared is None:
            raise Conflict(Message("place the person to be cared for in this room first"))
        group_key = cared.group_key
    # A minor or a person needing care goes in first; their carer follows with ``carer_for``.
    refusal = room_refusal(room, site, [row], joins_group=carer_for is not None)
    if refusal is not None:
        raise Conflict(refusal)
    if not take_room(session, room.id, 1, group_key, row.case_key):
        raise Conflict(Message("the room was taken by another placement at the same moment"))
    stay = Stay(
        person_id=person_id,
        jpath=person.jpath,
        site_id=site.id,
        room_id=room.id,
        source=row.source,
        group_key=group_key,
        case_key=row.case_key,
        carer=carer_for is not None,
        state=StayState.placed,
        identified_at=row.identified_at,
        deadline_at=row.deadline_at,
        placed_at=clock.utcnow(),
        placed_by=principal.username,
    )
    session.add(stay)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(Message("this person is already placed")) from exc
    session.expire(room)
    room_events(session, [(room.id, stay.id, "placed", "", principal.username)])
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.place",
        "stay",
        stay.id,
        jpath=person.jpath,
        detail={"person_id": person_id, "room_id": room.id, "site_id": site.id, "carer_for": carer_for},
    )
    return stay


# ---------------------------------------------------------------------------------------------- bulk


@dataclass(frozen=True)
class Unplaced:
    person_id: int
    name: str
    reason: str
    text: Message


@dataclass(frozen=True)
class PlacementReport:
    placed: int
    by_site: list[tuple[int, str, int]]  # (site id, site name, people placed there)
    unplaced: list[Unplaced] = field(default_factory=list)
    own_county_share: float | None = None
    seconds: float = 0.0

    @property
    def reasons(self) -> Counter[str]:
        return Counter(u.reason for u in self.unplaced)


def _site_orders(sites: Sequence[QuarantineSite]) -> dict[int, int]:
    return {s.id: k for k, s in enumerate(sorted(sites, key=lambda s: (s.tier, s.id)))}


def free_rooms(
    session: Session, principal: Principal
) -> tuple[list[rules.FreeRoom], dict[int, QuarantineSite]]:
    """Empty rooms in service of the open sites the principal places into, with the index cases whose
    contacts are already on each floor and ventilation zone (the solver keeps other cases away)."""
    sites = {
        s.id: s
        for s in session.scalars(
            select(QuarantineSite).where(QuarantineSite.status == SiteStatus.open, sites_visible(principal))
        )
    }
    if not sites:
        return [], {}
    orders = _site_orders(list(sites.values()))
    nearby: dict[tuple[int, str, str], set[int]] = defaultdict(set)
    rooms: list[tuple[int, int, str, str, RoomKind, int]] = []
    ids = sorted(sites)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                QuarantineRoom.id,
                QuarantineRoom.site_id,
                QuarantineRoom.floor,
                QuarantineRoom.zone,
                QuarantineRoom.kind,
                QuarantineRoom.beds,
                QuarantineRoom.state,
                QuarantineRoom.occupants,
                QuarantineRoom.case_key,
            ).where(
                QuarantineRoom.site_id.in_(ids[start : start + 500]),
                QuarantineRoom.state.in_([RoomState.free, RoomState.occupied]),
            )
        )
        for room_id, site_id, floor, zone, kind, beds, state, occupants, case_key in rows:
            if state is RoomState.free and occupants == 0:
                rooms.append((room_id, site_id, floor, zone, kind, beds))
            elif case_key:
                nearby[(site_id, floor, zone)].update(int(c) for c in case_key.split(",") if c)
    found = [
        rules.FreeRoom(
            room_id=room_id,
            site_id=site_id,
            county_code=county_of(sites[site_id].jpath),
            site_order=orders[site_id],
            floor=floor,
            zone=zone,
            kind=kind.value,
            beds=beds,
            cases_nearby=frozenset(nearby.get((site_id, floor, zone), ())),
        )
        for room_id, site_id, floor, zone, kind, beds in rooms
    ]
    return found, sites


def candidates_of(rows: Sequence[ToPlaceRow], now: dt.datetime) -> list[rules.Candidate]:
    return [
        rules.Candidate(
            person_id=r.person_id,
            county_code=county_of(r.jpath),
            household=str(r.household_id) if r.household_id is not None else None,
            case_ids=frozenset(r.index_case_ids),
            age=r.age,
            needs_care=r.needs_care,
            chronically_ill=r.chronically_ill,
            deadline_rank=(r.deadline_at - now).total_seconds(),
        )
        for r in rows
    ]


def reason_text(reason: str) -> Message:
    return Message(REASONS.get(reason) or rules.UNPLACED_REASONS.get(reason) or reason)


def place_people(
    session: Session,
    principal: Principal,
    person_ids: Sequence[int] | None = None,
    *,
    on: dt.date | None = None,
    ip: str = "",
) -> PlacementReport:
    """Place a whole list in one action (everyone to place in scope, or the people given).

    ``on`` is the day whose centralized stages count (default today; a drill passes its calendar day).

    The solver decides who goes where; each room is then taken with the conditional UPDATE (all rooms
    in one executemany when the driver counts its rows, room by room to find the one taken meanwhile
    otherwise) and the stays are inserted in one executemany. People someone else placed at the same
    moment make the whole write start again without them.
    """
    began = time.perf_counter()
    asked = list(dict.fromkeys(person_ids)) if person_ids is not None else None
    if asked is not None:
        inside: set[int] = set()
        for start in range(0, len(asked), 1000):
            inside.update(
                session.scalars(
                    select(Person.id).where(
                        Person.id.in_(asked[start : start + 1000]), under(Person.jpath, principal.jpath)
                    )
                )
            )
        missing = [pid for pid in asked if pid not in inside]
        if missing:
            raise NotFound(f"person {missing[0]} not found")
    unplaced: dict[int, str] = {}
    placed: list[tuple[rules.RoomPlacement, QuarantineSite]] = []
    share: float | None = None
    rows_by_id: dict[int, ToPlaceRow] = {}
    for _attempt in range(RETRIES):
        rows = to_place_rows(session, principal.jpath, asked, on=on)
        rows_by_id = {r.person_id: r for r in rows}
        if asked is not None:
            unplaced = {pid: "not_to_place" for pid in asked if pid not in rows_by_id}
        else:
            unplaced = {}
        if not rows:
            placed = []
            break
        rooms, sites = free_rooms(session, principal)
        result = rules.plan_placement(candidates_of(rows, clock.utcnow()), rooms)
        share = result.own_county_share if result.placed else None
        unplaced.update((u.person_id, u.reason) for u in result.unplaced)
        site_of_room = {r.room_id: sites[r.site_id] for r in rooms}
        try:
            with session.begin_nested():
                taken = _write(session, principal, result.placed, rows_by_id, site_of_room)
        except IntegrityError:
            # Someone placed some of these people meanwhile: solve again for those still waiting.
            session.expire_all()
            continue
        placed = [(p, site_of_room[p.room_id]) for p in result.placed if p.room_id in taken]
        for p in result.placed:
            if p.room_id not in taken:
                unplaced.update((pid, "room_taken") for pid in p.person_ids)
        break
    else:
        raise Conflict(Message("other coordinators are placing the same people; try again"))
    by_site: Counter[int] = Counter()
    names: dict[int, str] = {}
    for p, site in placed:
        by_site[site.id] += len(p.person_ids)
        names[site.id] = site.name
    people = _people(session, list(unplaced))
    report = PlacementReport(
        placed=sum(by_site.values()),
        by_site=[(sid, names[sid], n) for sid, n in sorted(by_site.items(), key=lambda kv: (-kv[1], kv[0]))],
        unplaced=[
            Unplaced(pid, people[pid].name_masked if pid in people else "", reason, reason_text(reason))
            for pid, reason in sorted(unplaced.items(), key=lambda kv: (_deadline(rows_by_id, kv[0]), kv[0]))
        ],
        own_county_share=share,
        seconds=round(time.perf_counter() - began, 3),
    )
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.place_many",
        "placement",
        principal.jurisdiction_id,
        jpath=principal.jpath,
        detail={"placed": report.placed, "unplaced": dict(report.reasons), "by_site": by_site},
    )
    return report


def _deadline(rows: dict[int, ToPlaceRow], person_id: int) -> dt.datetime:
    row = rows.get(person_id)
    return row.deadline_at if row is not None else dt.datetime.max.replace(tzinfo=dt.UTC)


def _write(
    session: Session,
    principal: Principal,
    placements: Sequence[rules.RoomPlacement],
    rows: dict[int, ToPlaceRow],
    site_of_room: dict[int, QuarantineSite],
) -> set[int]:
    """Take the rooms and insert the stays; returns the rooms taken (not one someone took meanwhile)."""
    ordered = sorted(placements, key=lambda p: p.room_id)
    params = [
        {
            "room": p.room_id,
            "n": len(p.person_ids),
            "g": rows[p.person_ids[0]].group_key,
            "c": rows[p.person_ids[0]].case_key,
        }
        for p in ordered
    ]
    taken: set[int] = set()
    dialect = session.get_bind().dialect
    if params and dialect.supports_sane_multi_rowcount:
        # Every room in one executemany; when all rows counted, every room was taken.
        with session.begin_nested() as attempt:
            counted = 0
            for start in range(0, len(params), WRITE_BATCH):
                result = session.execute(take_room_statement(), params[start : start + WRITE_BATCH])
                counted += cast(int, getattr(result, "rowcount", 0))
            if counted == len(params):
                taken = {p.room_id for p in ordered}
            else:
                attempt.rollback()
    if params and not taken:
        for values in params:
            if cast(int, getattr(session.execute(take_room_statement(), values), "rowcount", 0)) == 1:
                taken.add(cast(int, values["room"]))
    now = clock.utcnow()
    stays: list[dict[str, object]] = []
    for p in ordered:
        if p.room_id not in taken:
            continue
        site = site_of_room[p.room_id]
        group = rows[p.person_ids[0]]
        for pid in p.person_ids:
            row = rows[pid]
            stays.append(
                {
                    "person_id": pid,
                    "jpath": row.jpath,
                    "site_id": site.id,
                    "room_id": p.room_id,
                    "source": row.source,
                    "group_key": group.group_key,
                    "case_key": group.case_key,
                    "carer": pid == p.carer_id,
                    "state": StayState.placed.value,
                    "identified_at": row.identified_at,
                    "deadline_at": row.deadline_at,
                    "placed_at": now,
                    "placed_by": principal.username,
                    "end_reason": "",
                }
            )
    for start in range(0, len(stays), WRITE_BATCH):
        session.execute(_STAYS.insert(), stays[start : start + WRITE_BATCH])
    if stays:
        ids: list[tuple[int, int]] = []
        people = [cast(int, s["person_id"]) for s in stays]
        for start in range(0, len(people), 1000):
            ids.extend(
                session.execute(
                    select(Stay.room_id, Stay.id).where(
                        Stay.person_id.in_(people[start : start + 1000]), Stay.state.in_(ACTIVE_STAYS)
                    )
                ).all()
            )
        room_events(session, [(room, stay, "placed", "", principal.username) for room, stay in sorted(ids)])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, QuarantineRoom) and obj.id in taken:
            session.expire(obj)
    return taken
