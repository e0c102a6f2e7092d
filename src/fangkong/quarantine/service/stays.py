"""Stays: check-in, room transfer, check-out on the plan's release day, hospital transfer, cleaning.

Release days are never stored: each check-out reads the person's plan (``centralized_stages``), so a
re-plan or a protocol switch moves them by itself. A stay that ends gives its bed back with one
UPDATE of the room; the last one out sends the room to cleaning, and it is free again only when the
terminal disinfection is recorded.

A person found positive while in a room goes to hospital (the handler of tracing's ``CaseReported``);
if they shared the room with others who had checked in, those roommates become their close contacts
through tracing, told by the ``RoommatesExposed`` event.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import DomainEvent, EventBus, bus_of
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.service import CentralizedStage, centralized_stages
from fangkong.quarantine.events import PersonCheckedIntoQuarantine, RoommatesExposed
from fangkong.quarantine.models import (
    ACTIVE_STAYS,
    QuarantineRoom,
    QuarantineSite,
    RoomKind,
    RoomState,
    Stay,
    StayState,
)
from fangkong.quarantine.service import placement
from fangkong.quarantine.service.placement import actor
from fangkong.tracing.events import CaseReported

_STAYS = cast(Table, Stay.__table__)
# Stays ended per statement when many leave at once.
BATCH = 1_000


def get_stay(session: Session, principal: Principal, stay_id: int) -> Stay:
    stay = session.get(Stay, stay_id)
    if stay is None or not path_in_scope(stay.jpath, principal.jpath):
        raise NotFound(f"stay {stay_id} not found")
    return stay


# ---------------------------------------------------------------------------------------------- check-in


def check_in_stays(session: Session, bus: EventBus, stays: Sequence[Stay], at: dt.datetime, by: str) -> int:
    """Check in placed stays (the caller has checked scope): one event each, for tracing to record."""
    arriving = [s for s in stays if s.state is StayState.placed]
    for stay in arriving:
        stay.state = StayState.checked_in
        stay.checked_in_at = at
    session.flush()
    placement.room_events(session, [(s.room_id, s.id, "checked_in", "", by) for s in arriving])
    for stay in arriving:
        bus.publish(session, PersonCheckedIntoQuarantine(person_id=stay.person_id, source=stay.source, at=at))
    return len(arriving)


def check_in(
    session: Session,
    bus: EventBus,
    principal: Principal,
    stay_id: int,
    *,
    at: dt.datetime | None = None,
    ip: str = "",
) -> Stay:
    """The person arrived in their room."""
    stay = get_stay(session, principal, stay_id)
    if stay.state is StayState.checked_in:
        raise Conflict(Message("this person has already checked in"))
    if stay.state is not StayState.placed:
        raise Conflict(Message("this stay has ended"))
    moment = clock.as_utc(at) if at is not None else clock.utcnow()
    check_in_stays(session, bus, [stay], moment, principal.username)
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.check_in",
        "stay",
        stay.id,
        jpath=stay.jpath,
        detail={"room_id": stay.room_id, "at": moment.isoformat()},
    )
    return stay


# ---------------------------------------------------------------------------------------------- room transfer


def move(session: Session, principal: Principal, stay_id: int, room_id: int, *, ip: str = "") -> Stay:
    """Move a person to another room (a room transfer), under the same rules as a placement."""
    stay = get_stay(session, principal, stay_id)
    if stay.state not in ACTIVE_STAYS:
        raise Conflict(Message("this stay has ended"))
    if stay.room_id == room_id:
        raise Conflict(Message("the person is already in this room"))
    room, site = placement.get_room(session, principal, room_id)
    person = session.get(Person, stay.person_id)
    assert person is not None
    today = clock.today()
    mover = _as_row(stay, person, today, placement.needs_of(session, stay.person_id))
    refusal = placement.room_refusal(room, site, [mover], joins_group=stay.carer)
    if stay.carer and refusal is None and room.occupants == 0:
        refusal = Message("a carer moves into the room of the person they care for")
    if refusal is not None:
        raise Conflict(refusal)
    group_key = room.group_key if stay.carer and room.group_key else stay.group_key
    old_room = stay.room_id
    # Rooms are written in id order by every writer, so two moves in opposite directions cannot deadlock.
    if old_room < room.id:
        placement.leave_rooms(session, Counter({old_room: 1}))
    if not placement.take_room(session, room.id, 1, group_key, stay.case_key):
        raise Conflict(Message("the room was taken by another placement at the same moment"))
    if old_room > room.id:
        placement.leave_rooms(session, Counter({old_room: 1}))
    session.expire(room)
    stay.room_id = room.id
    stay.site_id = site.id
    stay.group_key = group_key
    session.flush()
    placement.room_events(
        session,
        [
            (old_room, stay.id, "moved_out", f"→ {room.id}", principal.username),
            (room.id, stay.id, "moved_in", f"← {old_room}", principal.username),
        ],
    )
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.move",
        "stay",
        stay.id,
        jpath=stay.jpath,
        detail={"from_room": old_room, "to_room": room.id},
    )
    return stay


def _as_row(stay: Stay, person: Person, today: dt.date, needs: tuple[bool, bool]) -> placement.ToPlaceRow:
    """A placed person seen as the placement rules see someone to place (for a room transfer)."""
    cases = tuple(int(c) for c in stay.case_key.split(",") if c)
    return placement.ToPlaceRow(
        person_id=person.id,
        name=person.name_masked,
        age=placement.age_on(person.birth_date, today),
        sex=person.sex,
        jurisdiction_id=person.jurisdiction_id,
        community="",
        jpath=person.jpath,
        household_id=person.household_id,
        category="",
        source=stay.source,
        sources=(stay.source,),
        identified_at=clock.as_utc(stay.identified_at),
        deadline_at=clock.as_utc(stay.deadline_at),
        hours_left=0.0,
        stage_start=today,
        release=today,
        index_case_ids=cases,
        needs_care=needs[0],
        chronically_ill=needs[1],
        group=stay.group_key,
    )


# ---------------------------------------------------------------------------------------------- ending stays


def release_days(session: Session, person_ids: Sequence[int]) -> dict[int, dt.date]:
    """Each person's release day: the latest over their active plans' centralized stages (a person
    with none has no reason to stay, and is missing here)."""
    stages: dict[int, list[CentralizedStage]] = defaultdict(list)
    for stage in centralized_stages(session, "/", person_ids=person_ids):
        stages[stage.person_id].append(stage)
    return {pid: max(s.release for s in own) for pid, own in stages.items()}


def end_stays(
    session: Session, stays: Sequence[Stay], state: StayState, reason: str | Message, by: str
) -> None:
    """End stays set-based: one UPDATE per batch of stays, one executemany for their rooms."""
    if not stays:
        return
    now = clock.utcnow()
    text = stored(reason)
    ids = [s.id for s in stays]
    for start in range(0, len(ids), BATCH):
        session.execute(
            update(Stay)
            .where(Stay.id.in_(ids[start : start + BATCH]), Stay.state.in_(ACTIVE_STAYS))
            .values(state=state, ended_at=now, end_reason=text)
            .execution_options(synchronize_session=False)
        )
    for stay in stays:
        session.expire(stay)
    placement.leave_rooms(session, Counter(s.room_id for s in stays))
    placement.room_events(session, [(s.room_id, s.id, state.value, "", by) for s in stays])


def release_due(session: Session, principal: Principal, *, on: dt.date | None = None, ip: str = "") -> int:
    """Check out everyone in scope whose plan's release day has come (``on``, default today).

    The release day is read from the plan now, so a protocol switch that shortened the stage releases
    on the new day; a stay whose plan no longer asks for a centralized stage (its source released the
    person) ends today. People placed but never transferred are cancelled on the same terms.
    """
    day = on or clock.today()
    active = list(
        session.scalars(
            select(Stay)
            .where(under(Stay.jpath, principal.jpath), Stay.state.in_(ACTIVE_STAYS))
            .order_by(Stay.id)
        )
    )
    if not active:
        return 0
    releases = release_days(session, [s.person_id for s in active])
    due = [s for s in active if releases.get(s.person_id, day) <= day]
    held = held_for_test(session, [s for s in due if s.state is StayState.checked_in], day)
    due = [s for s in due if s.id not in held]
    checked_out = [s for s in due if s.state is StayState.checked_in]
    cancelled = [s for s in due if s.state is StayState.placed]
    end_stays(
        session, checked_out, StayState.released, Message("released on the plan's day"), principal.username
    )
    end_stays(
        session,
        cancelled,
        StayState.cancelled,
        Message("the plan's release day came before arrival"),
        principal.username,
    )
    if due:
        audit.record(
            session,
            actor(principal, ip),
            "quarantine.release",
            "jurisdiction",
            principal.jurisdiction_id,
            jpath=principal.jpath,
            detail={
                "on": day.isoformat(),
                "released": [s.id for s in checked_out],
                "cancelled": [s.id for s in cancelled],
                "held": sorted(held),
            },
        )
    return len(due)


def last_stage_tests(session: Session, person_ids: Sequence[int]) -> dict[tuple[int, str], dt.date]:
    """(person, plan source) → the last test day of the plan's centralized stage, as the plan stands."""
    found: dict[tuple[int, str], dt.date] = {}
    for stage in centralized_stages(session, "/", person_ids=person_ids):
        if stage.test_days:
            found[(stage.person_id, stage.source)] = max(stage.test_days)
    return found


def held_for_test(
    session: Session, stays: Sequence[Stay], day: dt.date, *, sync: bool = True
) -> dict[int, dt.date]:
    """Stays whose release must wait for the stage's last test: stay id → that test's day.

    The release waits while the last test of the centralized stage (due by ``day``) was ordered and has
    no negative result: not sampled, not back from the lab, or positive (then the person is a case). A
    test this platform never ordered (the testing capability not in use for that person) holds nothing.
    """
    from fangkong.testing.service.orders import sync_orders, test_outcomes

    if not stays:
        return {}
    if sync:
        # A protocol switch re-plans without telling testing: bring the orders in line with the plans
        # first (a reading page passes ``sync=False`` and shows the orders as they are).
        sync_orders(session, "/", person_ids={s.person_id for s in stays})
    last = last_stage_tests(session, [s.person_id for s in stays])
    keys = {
        stay.id: (stay.person_id, stay.source, last[(stay.person_id, stay.source)])
        for stay in stays
        if (stay.person_id, stay.source) in last and last[(stay.person_id, stay.source)] <= day
    }
    outcomes = test_outcomes(session, keys.values())
    return {
        stay_id: key[2] for stay_id, key in keys.items() if key in outcomes and outcomes[key] != "negative"
    }


def convert_to_case(session: Session, event: DomainEvent) -> None:
    """Handler of tracing's ``CaseReported``: a person in a room is a case now and goes to hospital.

    Roommates who had checked in with them become their close contacts: ``RoommatesExposed`` on the
    bus that delivered this event, for tracing to record.
    """
    assert isinstance(event, CaseReported)
    if event.person_id is None:
        return
    stay = session.scalar(select(Stay).where(Stay.person_id == event.person_id, Stay.state.in_(ACTIVE_STAYS)))
    if stay is None:
        return
    was_in = stay.state is StayState.checked_in
    began = clock.as_utc(stay.checked_in_at) if stay.checked_in_at is not None else None
    room_id = stay.room_id
    roommates = list(
        session.scalars(
            select(Stay).where(
                Stay.room_id == room_id, Stay.state == StayState.checked_in, Stay.id != stay.id
            )
        )
    )
    end_stays(
        session, [stay], StayState.hospital, Message("converted to a case: hospital transfer"), "system"
    )
    audit.record(
        session,
        audit.SYSTEM,
        "quarantine.hospital",
        "stay",
        stay.id,
        jpath=stay.jpath,
        detail={"case_id": event.case_id, "room_id": room_id},
    )
    if not was_in or began is None or not roommates:
        return
    room = session.get(QuarantineRoom, room_id)
    assert room is not None
    site = session.get(QuarantineSite, room.site_id)
    assert site is not None
    # They shared the room from the later of the two check-ins; the earliest such moment over them all.
    since = min(max(began, clock.as_utc(r.checked_in_at or began)) for r in roommates)
    bus_of(session).publish(
        session,
        RoommatesExposed(
            case_id=event.case_id,
            case_person_id=event.person_id,
            roommate_person_ids=tuple(sorted(r.person_id for r in roommates)),
            since=since,
            until=clock.utcnow(),
            site_name=site.name,
            room_number=room.number,
        ),
    )


def record_cleaning(
    session: Session, principal: Principal, room_id: int, *, note: str = "", ip: str = ""
) -> None:
    """The terminal disinfection of an emptied room was done: it is free again."""
    room, site = placement.get_room(session, principal, room_id)
    if room.state is not RoomState.cleaning:
        raise Conflict(Message("only a room waiting for cleaning can be recorded as disinfected"))
    result = session.execute(
        update(QuarantineRoom)
        .where(
            QuarantineRoom.id == room.id,
            QuarantineRoom.state == RoomState.cleaning,
            QuarantineRoom.occupants == 0,
        )
        .values(state=RoomState.free, group_key=None, case_key=None)
        .execution_options(synchronize_session=False)
    )
    if cast(int, getattr(result, "rowcount", 0)) != 1:
        raise Conflict(Message("only a room waiting for cleaning can be recorded as disinfected"))
    session.expire(room)
    placement.room_events(session, [(room.id, None, "cleaned", note[:500], principal.username)])
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.cleaning",
        "room",
        room.id,
        jpath=site.jpath,
        detail={"site_id": site.id, "note": note[:200]},
    )


# ---------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class BoardOccupant:
    stay_id: int
    person_id: int
    name: str  # masked; "" for someone outside the reader's scope
    state: StayState
    carer: bool
    until: dt.date | None  # the release day (the plan's, read now)
    next_test: dt.date | None  # the plan's next test day from today
    # The release day has come but the stage's last test (this day's) has no negative result yet.
    held_for_test: dt.date | None = None


@dataclass(frozen=True)
class BoardRoom:
    room_id: int
    number: str
    floor: str
    zone: str
    kind: RoomKind
    beds: int
    state: RoomState
    occupants: int
    people: tuple[BoardOccupant, ...]


@dataclass(frozen=True)
class BoardFloor:
    floor: str
    rooms: tuple[BoardRoom, ...]


@dataclass(frozen=True)
class RoomBoard:
    site_id: int
    site_name: str
    status: str
    floors: tuple[BoardFloor, ...]

    def count(self, state: RoomState) -> int:
        return sum(1 for f in self.floors for r in f.rooms if r.state is state)


def _floor_order(floor: str) -> tuple[int, int, str]:
    return (0, int(floor), "") if floor.lstrip("-").isdigit() else (1, 0, floor)


def room_board(session: Session, principal: Principal, site_id: int) -> RoomBoard:
    """Who is where in a site, until when and when they are next tested, floor by floor."""
    site = session.get(QuarantineSite, site_id)
    if site is None or not placement.site_is_visible(site, principal):
        raise NotFound(f"site {site_id} not found")
    rooms = list(session.scalars(select(QuarantineRoom).where(QuarantineRoom.site_id == site.id)))
    stays = list(
        session.scalars(
            select(Stay).where(Stay.site_id == site.id, Stay.state.in_(ACTIVE_STAYS)).order_by(Stay.id)
        )
    )
    mine = [s for s in stays if path_in_scope(s.jpath, principal.jpath)]
    names = dict(
        session.execute(
            select(Person.id, Person.name_masked).where(Person.id.in_({s.person_id for s in mine}))
        ).all()
    )
    today = clock.today()
    stages: dict[int, list[CentralizedStage]] = defaultdict(list)
    for stage in centralized_stages(session, principal.jpath, person_ids=[s.person_id for s in mine]):
        stages[stage.person_id].append(stage)
    by_room: dict[int, list[BoardOccupant]] = defaultdict(list)
    held = held_for_test(
        session,
        [
            s
            for s in mine
            if s.state is StayState.checked_in
            and max((st.release for st in stages.get(s.person_id, [])), default=today + dt.timedelta(days=1))
            <= today
        ],
        today,
        sync=False,
    )
    for stay in stays:
        visible = path_in_scope(stay.jpath, principal.jpath)
        own = stages.get(stay.person_id, []) if visible else []
        tests = sorted(d for s in own for d in s.test_days if d >= today)
        by_room[stay.room_id].append(
            BoardOccupant(
                stay_id=stay.id,
                person_id=stay.person_id if visible else 0,
                name=names.get(stay.person_id, "") if visible else "",
                state=stay.state,
                carer=stay.carer,
                until=max((s.release for s in own), default=None),
                next_test=tests[0] if tests else None,
                held_for_test=held.get(stay.id) if visible else None,
            )
        )
    floors: dict[str, list[BoardRoom]] = defaultdict(list)
    for room in sorted(rooms, key=lambda r: (_floor_order(r.floor), r.number)):
        floors[room.floor].append(
            BoardRoom(
                room_id=room.id,
                number=room.number,
                floor=room.floor,
                zone=room.zone,
                kind=room.kind,
                beds=room.beds,
                state=room.state,
                occupants=room.occupants,
                people=tuple(by_room.get(room.id, ())),
            )
        )
    return RoomBoard(
        site_id=site.id,
        site_name=site.name,
        status=site.status.value,
        floors=tuple(BoardFloor(floor, tuple(rs)) for floor, rs in floors.items()),
    )


@dataclass(frozen=True)
class StayView:
    id: int
    person_id: int
    site_id: int
    site_name: str
    room_id: int
    room_number: str
    state: StayState
    carer: bool
    batch_id: int | None
    placed_at: dt.datetime
    deadline_at: dt.datetime
    checked_in_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str
    release: dt.date | None  # for an active stay: the plan's release day, read now


def stays_of_person(session: Session, principal: Principal, person_id: int) -> list[StayView]:
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(f"person {person_id} not found")
    rows = session.execute(
        select(Stay, QuarantineSite.name, QuarantineRoom.number)
        .join(QuarantineSite, QuarantineSite.id == Stay.site_id)
        .join(QuarantineRoom, QuarantineRoom.id == Stay.room_id)
        .where(Stay.person_id == person_id, under(Stay.jpath, principal.jpath))
        .order_by(Stay.placed_at, Stay.id)
    ).all()
    release = release_days(session, [person_id]).get(person_id)
    return [
        StayView(
            id=stay.id,
            person_id=stay.person_id,
            site_id=stay.site_id,
            site_name=site_name,
            room_id=stay.room_id,
            room_number=number,
            state=stay.state,
            carer=stay.carer,
            batch_id=stay.batch_id,
            placed_at=clock.as_utc(stay.placed_at),
            deadline_at=clock.as_utc(stay.deadline_at),
            checked_in_at=clock.as_utc(stay.checked_in_at) if stay.checked_in_at else None,
            ended_at=clock.as_utc(stay.ended_at) if stay.ended_at else None,
            end_reason=stay.end_reason,
            release=release if stay.state in ACTIVE_STAYS else None,
        )
        for stay, site_name, number in rows
    ]
